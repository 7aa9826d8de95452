package lifecycle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/Masterminds/semver/v3"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/downloader"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/helmpath"
	"helm.sh/helm/v4/pkg/registry"
	"helm.sh/helm/v4/pkg/repo/v1"
)

// PullOptions are `helm pull`'s flags for reaching a chart repository or
// an OCI registry; the zero value pulls anonymously over the system's
// trust roots, as the Helm client does without flags.
type PullOptions struct {
	// Username and Password are sent as basic auth (to the repository's
	// host only, unless PassCredentials) or as the registry login.
	Username, Password string
	PassCredentials    bool
	// CAFile verifies the server; CertFile and KeyFile identify the client.
	CAFile, CertFile, KeyFile string
	InsecureSkipTLSVerify     bool
	// PlainHTTP talks to an OCI registry over http.
	PlainHTTP bool
	// Verify refuses a chart whose provenance file is missing or not
	// signed by a key in Keyring.
	Verify  bool
	Keyring string
}

// PullChart pulls with the zero PullOptions.
func PullChart(ctx context.Context, repoURL, name, version string) (*chart.Chart, error) {
	return PullOptions{}.Pull(ctx, repoURL, name, version)
}

// Pull fetches chart name from repoURL, as `helm pull --repo` does for a
// Helm repository (http or https: index.yaml, then the archive) and as
// `helm pull oci://...` does for a registry, through Helm's own getters and
// downloader. version is an exact version or a semver constraint; ""
// means the latest stable version or, where only prereleases are published
// (Linkerd's edge channel), the latest prerelease. An archive is checked
// against the index's digest and cached by it. ctx is checked before the
// pull starts: Helm's getters take none (they time out by themselves).
func (o PullOptions) Pull(ctx context.Context, repoURL, name, version string) (*chart.Chart, error) {
	u, err := url.Parse(repoURL)
	if err != nil || u.Host == "" || !slices.Contains([]string{"http", "https", registry.OCIScheme}, u.Scheme) {
		return nil, fmt.Errorf("repository URL %q: want http(s)://host/path or oci://host/path; check --repo", repoURL)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "kubectl-mesh-pull-*")
	if err != nil {
		return nil, fmt.Errorf("pulling chart %s: %w", name, err)
	}
	defer os.RemoveAll(tmp)
	p := &puller{PullOptions: o, repo: strings.TrimSuffix(repoURL, "/"), name: name, tmp: tmp}
	var ref string
	var cv *repo.ChartVersion
	if u.Scheme == registry.OCIScheme {
		if p.registry, err = o.registryClient(); err != nil {
			return nil, err
		}
		ref, cv, err = p.resolveTag(version)
	} else {
		ref, cv, err = p.resolveIndex(version)
	}
	if err != nil {
		return nil, err
	}
	archive, err := p.download(ref, cv)
	if err != nil {
		return nil, err
	}
	ch, err := loader.LoadArchive(bytes.NewReader(archive))
	if err != nil {
		return nil, fmt.Errorf("loading chart %s %s from %s: %w", name, cv.Version, ref, err)
	}
	if ch.Name() != name {
		return nil, fmt.Errorf("repository %s: the archive of %s %s holds chart %q", repoURL, name, cv.Version, ch.Name())
	}
	return ch, nil
}

// validate names the flag whose value cannot be used, before anything is
// fetched.
func (o PullOptions) validate() error {
	switch {
	case (o.Username == "") != (o.Password == ""):
		return errors.New("--username and --password go together")
	case (o.CertFile == "") != (o.KeyFile == ""):
		return errors.New("--cert-file and --key-file go together")
	case o.Verify && o.Keyring == "":
		return errors.New("--verify needs a --keyring with the public keys to verify against")
	}
	files := []struct{ flag, path string }{{"--ca-file", o.CAFile}, {"--cert-file", o.CertFile}, {"--key-file", o.KeyFile}}
	if o.Verify {
		files = append(files, struct{ flag, path string }{"--keyring", o.Keyring})
	}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("reading %s: %w", f.flag, err)
		}
	}
	return nil
}

// UnreachableError is a repository whose index (or registry whose tags)
// Pull could not fetch, so that a caller can say what else the user may do.
type UnreachableError struct {
	Repo   string // the repository URL
	Reason error  // short: "connection refused", "HTTP 404 Not Found"
}

func (e *UnreachableError) Error() string {
	if strings.HasPrefix(e.Repo, registry.OCIScheme+"://") {
		return fmt.Sprintf("listing the chart versions in %s: %s; check --repo or the network", e.Repo, e.Reason)
	}
	return fmt.Sprintf("fetching the chart index from %s/index.yaml: %s; check --repo or the network", strings.TrimSuffix(e.Repo, "/"), e.Reason)
}

func (e *UnreachableError) Unwrap() error { return e.Reason }

// puller is one Pull.
type puller struct {
	PullOptions
	repo, name string
	// tmp holds the index and the archive while they are checked.
	tmp string
	// registry is set for oci:// only.
	registry *registry.Client
}

func (p *puller) getterOptions() []getter.Option {
	return []getter.Option{
		// Basic auth goes only to this host, unless PassCredentials.
		getter.WithURL(p.repo),
		getter.WithBasicAuth(p.Username, p.Password),
		getter.WithPassCredentialsAll(p.PassCredentials),
		getter.WithTLSClientConfig(p.CertFile, p.KeyFile, p.CAFile),
		getter.WithInsecureSkipVerifyTLS(p.InsecureSkipTLSVerify),
		getter.WithPlainHTTP(p.PlainHTTP),
		getter.WithRegistryClient(p.registry),
	}
}

// resolveIndex picks the version from the repository's index.yaml.
func (p *puller) resolveIndex(version string) (string, *repo.ChartVersion, error) {
	indexURL := p.repo + "/index.yaml"
	g, err := getter.Getters().ByScheme(strings.SplitN(p.repo, ":", 2)[0])
	if err != nil {
		return "", nil, err
	}
	data, err := g.Get(indexURL, p.getterOptions()...)
	if err != nil {
		return "", nil, &UnreachableError{Repo: p.repo, Reason: netReason(err)}
	}
	index, err := p.loadIndex(data.Bytes())
	if err != nil {
		return "", nil, fmt.Errorf("reading the chart index from %s: %w; check --repo", indexURL, err)
	}
	cv, err := pickVersion(index, p.name, version)
	if err != nil {
		return "", nil, fmt.Errorf("repository %s: %w", p.repo, err)
	}
	if len(cv.URLs) == 0 {
		return "", nil, fmt.Errorf("repository %s: chart %s %s has no download URL", p.repo, p.name, cv.Version)
	}
	chartURL, err := repo.ResolveReferenceURL(p.repo, cv.URLs[0])
	if err != nil {
		return "", nil, fmt.Errorf("repository %s: chart %s %s: %w", p.repo, p.name, cv.Version, err)
	}
	return chartURL, cv, nil
}

// resolveTag picks the version from the registry's tags, by the same
// rules as from an index.
func (p *puller) resolveTag(version string) (string, *repo.ChartVersion, error) {
	ref := p.repo + "/" + p.name
	tags, err := p.registry.Tags(strings.TrimPrefix(ref, registry.OCIScheme+"://"))
	if err != nil {
		return "", nil, &UnreachableError{Repo: p.repo, Reason: netReason(err)}
	}
	index := repo.NewIndexFile()
	for _, tag := range tags {
		index.Entries[p.name] = append(index.Entries[p.name], &repo.ChartVersion{Metadata: &chart.Metadata{Name: p.name, Version: tag}})
	}
	cv, err := pickVersion(index, p.name, version)
	if err != nil {
		return "", nil, fmt.Errorf("registry %s: %w", p.repo, err)
	}
	return ref, cv, nil
}

// pullRepoName names the repository in the private configuration a pull
// writes, as `helm repo add` would.
const pullRepoName = "kubectl-mesh-pull"

// loadIndex parses and validates an index.yaml with Helm's repo package,
// which reads only files. The index and a repositories.yaml naming the
// repository are left where Helm's downloader looks, so that it sends
// credentials to the repository's host only, as for a repository added
// with helm repo add (an index may point at archives elsewhere).
func (p *puller) loadIndex(data []byte) (*repo.IndexFile, error) {
	path := filepath.Join(p.tmp, helmpath.CacheIndexFile(pullRepoName))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, err
	}
	repos := repo.NewFile()
	repos.Add(&repo.Entry{Name: pullRepoName, URL: p.repo, Username: p.Username, Password: p.Password, PassCredentialsAll: p.PassCredentials,
		CertFile: p.CertFile, KeyFile: p.KeyFile, CAFile: p.CAFile, InsecureSkipTLSVerify: p.InsecureSkipTLSVerify})
	if err := repos.WriteFile(p.repositories(), 0o600); err != nil {
		return nil, err
	}
	index, err := repo.LoadIndexFile(path)
	if err != nil {
		// The path of a temporary file means nothing to the user.
		return nil, errors.New(strings.ReplaceAll(err.Error(), "error loading "+path+": ", ""))
	}
	return index, nil
}

// download fetches the archive of cv (from the cache when its digest is
// known and nothing is to be verified), verifies its provenance when asked
// and checks it against the index's digest.
func (p *puller) download(ref string, cv *repo.ChartVersion) ([]byte, error) {
	dig, known := indexDigest(cv.Digest)
	cache := chartCache()
	if known && cache != nil && !p.Verify {
		if path, err := cache.Get(dig, downloader.CacheChart); err == nil {
			if data, err := os.ReadFile(path); err == nil && sha256.Sum256(data) == dig {
				return data, nil
			}
		}
	}
	dl := downloader.ChartDownloader{
		Out:            io.Discard,
		Verify:         downloader.VerifyNever,
		Getters:        getter.Getters(),
		Options:        p.getterOptions(),
		RegistryClient: p.registry,
		// A private configuration and cache: see loadIndex.
		RepositoryConfig: p.repositories(),
		RepositoryCache:  p.tmp,
		ContentCache:     filepath.Join(p.tmp, "content"),
	}
	if p.Verify {
		// Fetched with the chart, verified below with an error that names --verify.
		dl.Verify = downloader.VerifyLater
	}
	path, _, err := dl.DownloadTo(ref, cv.Version, p.tmp)
	if err != nil {
		return nil, fmt.Errorf("downloading chart %s %s from %s: %s; check --repo or the network", p.name, cv.Version, ref, netReason(err))
	}
	if p.Verify {
		if _, err := os.Stat(path + ".prov"); err != nil {
			return nil, fmt.Errorf("verifying chart %s %s (--verify): %s serves no provenance file %s.prov", p.name, cv.Version, p.repo, ref)
		}
		if _, err := downloader.VerifyChart(path, path+".prov", p.Keyring); err != nil {
			return nil, fmt.Errorf("verifying chart %s %s from %s (--verify, --keyring %s): %s", p.name, cv.Version, ref, p.Keyring, oneLine(err))
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("downloading chart %s %s from %s: %w", p.name, cv.Version, ref, err)
	}
	if got := sha256.Sum256(data); known && got != dig {
		return nil, fmt.Errorf("downloading chart %s %s from %s: its sha256 digest is %x, the index says %s; the repository is inconsistent or the download was tampered with", p.name, cv.Version, ref, got, cv.Digest)
	}
	if known && cache != nil {
		// Best effort: a read-only home only costs a download.
		_, _ = cache.Put(dig, bytes.NewReader(data), downloader.CacheChart)
	}
	return data, nil
}

func (p *puller) repositories() string { return filepath.Join(p.tmp, "repositories.yaml") }

func indexDigest(s string) ([sha256.Size]byte, bool) {
	var dig [sha256.Size]byte
	d, err := hex.DecodeString(strings.TrimPrefix(strings.ToLower(s), "sha256:"))
	if err != nil || len(d) != sha256.Size {
		return dig, false
	}
	copy(dig[:], d)
	return dig, true
}

// chartCache is Helm's content cache under the user's cache directory;
// nil when there is none.
func chartCache() *downloader.DiskCache {
	dir, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	return &downloader.DiskCache{Root: filepath.Join(dir, "kubectl-mesh", "charts")}
}

// registryClient is what `helm pull oci://...` builds from the same flags;
// credentials from `helm registry login` are used when none are given.
func (o PullOptions) registryClient() (*registry.Client, error) {
	opts := []registry.ClientOption{registry.ClientOptEnableCache(true), registry.ClientOptBasicAuth(o.Username, o.Password)}
	if o.PlainHTTP {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	if o.CAFile != "" || o.CertFile != "" || o.InsecureSkipTLSVerify {
		cfg, err := o.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, registry.ClientOptHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: cfg, Proxy: http.ProxyFromEnvironment}}))
	}
	rc, err := registry.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the registry client: %w", err)
	}
	return rc, nil
}

// tlsConfig is the registry client's share of the TLS flags (Helm builds
// the same for its getters, in a package of its own it does not export).
func (o PullOptions) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: o.InsecureSkipTLSVerify} //nolint:gosec // --insecure-skip-tls-verify asks for it
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("reading --cert-file %s and --key-file %s: %w", o.CertFile, o.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading --ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("reading --ca-file %s: no PEM certificate in it", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// pickVersion chooses from the index (sorted newest first by LoadIndexFile).
// Unlike repo.IndexFile.Get, an exact version that is missing is an error,
// not the closest version, and "" falls back to prereleases.
func pickVersion(index *repo.IndexFile, name, version string) (*repo.ChartVersion, error) {
	vs := index.Entries[name]
	if len(vs) == 0 {
		return nil, fmt.Errorf("no chart %s; it has %s", name, chartNames(index))
	}
	var constraint *semver.Constraints
	if version != "" {
		for _, v := range vs {
			if v.Version == version || v.Version == "v"+version || "v"+v.Version == version {
				return v, nil
			}
		}
		c, err := semver.NewConstraint(version)
		if err != nil {
			return nil, fmt.Errorf("chart %s has no version %s; available: %s", name, version, available(vs))
		}
		if _, err := semver.StrictNewVersion(strings.TrimPrefix(version, "v")); err == nil {
			return nil, fmt.Errorf("chart %s has no version %s; available: %s", name, version, available(vs))
		}
		constraint = c
	}
	var firstPre *repo.ChartVersion
	for _, v := range vs {
		sv, err := semver.NewVersion(v.Version)
		if err != nil {
			continue
		}
		if constraint != nil {
			if constraint.Check(sv) {
				return v, nil
			}
			continue
		}
		if sv.Prerelease() == "" {
			return v, nil
		}
		if firstPre == nil {
			firstPre = v
		}
	}
	if firstPre != nil {
		return firstPre, nil
	}
	if version == "" {
		return nil, fmt.Errorf("chart %s has no version with a semantic version number; available: %s", name, available(vs))
	}
	return nil, fmt.Errorf("chart %s has no version matching %s; available: %s", name, version, available(vs))
}

// available lists a few versions, newest first.
func available(vs repo.ChartVersions) string {
	const few = 8
	s := make([]string, 0, few+1)
	for i, v := range vs {
		if i == few {
			s = append(s, fmt.Sprintf("and %d older", len(vs)-few))
			break
		}
		s = append(s, v.Version)
	}
	return strings.Join(s, ", ")
}

func chartNames(index *repo.IndexFile) string {
	if len(index.Entries) == 0 {
		return "no charts"
	}
	names := make([]string, 0, len(index.Entries))
	for n := range index.Entries {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) > 8 {
		names = append(names[:8], "...")
	}
	return "charts " + strings.Join(names, ", ")
}

// netReason reduces a client error to its cause: "connection refused",
// "HTTP 404 Not Found", with the flag that answers it where there is one.
func netReason(err error) error {
	var dnsErr *net.DNSError
	var authority x509.UnknownAuthorityError
	msg := err.Error()
	switch {
	case errors.As(err, &authority) || strings.Contains(msg, "certificate signed by unknown authority"):
		return fmt.Errorf("%s (--ca-file names the CA to trust)", oneLine(err))
	case strings.Contains(msg, "tls: certificate required") || strings.Contains(msg, "tls: bad certificate"):
		return fmt.Errorf("%s (the server wants a client certificate: --cert-file and --key-file)", oneLine(err))
	case errors.Is(err, context.Canceled):
		return errors.New("interrupted")
	case errors.Is(err, context.DeadlineExceeded), os.IsTimeout(err):
		return errors.New("timed out")
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("connection refused")
	case errors.As(err, &dnsErr):
		return fmt.Errorf("cannot resolve %s", dnsErr.Name)
	}
	// Helm's HTTP getter: "failed to fetch URL : 404 Not Found".
	if rest, ok := strings.CutPrefix(msg, "failed to fetch "); ok {
		if _, status, ok := strings.Cut(rest, " : "); ok {
			if strings.HasPrefix(status, "401") || strings.HasPrefix(status, "403") {
				return fmt.Errorf("HTTP %s (check --username and --password)", status)
			}
			return errors.New("HTTP " + status)
		}
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return errors.New(oneLine(err))
}
