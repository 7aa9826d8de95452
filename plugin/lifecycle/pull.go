package lifecycle

import (
	"bytes"
	"context"
	"crypto/sha256"
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
	"helm.sh/helm/v4/pkg/repo/v1"
)

// maxDownload bounds what PullChart reads from a repository; Istio's and
// Linkerd's indexes and charts are a few MB.
const maxDownload = 64 << 20

// PullChart fetches chart name from the Helm repository at repoURL
// (http or https: index.yaml, then the chart archive), as `helm pull
// --repo` does. version is an exact version or a semver constraint; ""
// means the latest stable version or, for repositories that publish only
// prereleases (Linkerd's edge channel), the latest prerelease. The archive
// is checked against the index's digest and cached by it.
func PullChart(ctx context.Context, repoURL, name, version string) (*chart.Chart, error) {
	u, err := url.Parse(repoURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("repository URL %q: want http(s)://host/path; check --repo", repoURL)
	}
	indexURL := strings.TrimSuffix(repoURL, "/") + "/index.yaml"
	data, err := download(ctx, indexURL)
	if err != nil {
		return nil, &UnreachableError{Repo: repoURL, Reason: err}
	}
	index, err := loadIndex(data)
	if err != nil {
		return nil, fmt.Errorf("reading the chart index from %s: %w; check --repo", indexURL, err)
	}
	cv, err := pickVersion(index, name, version)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", repoURL, err)
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("repository %s: chart %s %s has no download URL", repoURL, name, cv.Version)
	}
	chartURL, err := repo.ResolveReferenceURL(repoURL, cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("repository %s: chart %s %s: %w", repoURL, name, cv.Version, err)
	}

	cache := cachePath(name, cv.Version, cv.Digest)
	archive, ok := readCached(cache, cv.Digest)
	if !ok {
		if archive, err = download(ctx, chartURL); err != nil {
			return nil, fmt.Errorf("downloading chart %s %s from %s: %s; check --repo or the network", name, cv.Version, chartURL, err)
		}
		if cv.Digest != "" && digest(archive) != strings.ToLower(cv.Digest) {
			return nil, fmt.Errorf("downloading chart %s %s from %s: its sha256 digest is %s, the index says %s; the repository is inconsistent or the download was tampered with", name, cv.Version, chartURL, digest(archive), cv.Digest)
		}
		writeCache(cache, archive)
	}
	ch, err := loader.LoadArchive(bytes.NewReader(archive))
	if err != nil {
		return nil, fmt.Errorf("loading chart %s %s from %s: %w", name, cv.Version, chartURL, err)
	}
	if ch.Name() != name {
		return nil, fmt.Errorf("repository %s: the archive of %s %s holds chart %q", repoURL, name, cv.Version, ch.Name())
	}
	return ch, nil
}

// UnreachableError is a repository whose index PullChart could not fetch,
// so that a caller can say what else the user may do.
type UnreachableError struct {
	Repo   string // the repository URL
	Reason error  // short: "connection refused", "HTTP 404 Not Found"
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("fetching the chart index from %s/index.yaml: %s; check --repo or the network", strings.TrimSuffix(e.Repo, "/"), e.Reason)
}

func (e *UnreachableError) Unwrap() error { return e.Reason }

// loadIndex parses and validates an index.yaml with Helm's repo package,
// which reads only files.
func loadIndex(data []byte) (*repo.IndexFile, error) {
	f, err := os.CreateTemp("", "kubectl-mesh-index-*.yaml")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	index, err := repo.LoadIndexFile(f.Name())
	if err != nil {
		// The path of a temporary file means nothing to the user.
		return nil, errors.New(strings.ReplaceAll(err.Error(), "error loading "+f.Name()+": ", ""))
	}
	return index, nil
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

// download GETs u; errors are short: "connection refused", "HTTP 404 Not Found".
func download(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, netReason(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDownload+1))
	if err != nil {
		return nil, netReason(err)
	}
	if len(data) > maxDownload {
		return nil, fmt.Errorf("larger than %d MB", maxDownload>>20)
	}
	return data, nil
}

// netReason reduces a client error to its cause.
func netReason(err error) error {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.Canceled):
		return errors.New("interrupted")
	case errors.Is(err, context.DeadlineExceeded), os.IsTimeout(err):
		return errors.New("timed out")
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("connection refused")
	case errors.As(err, &dnsErr):
		return fmt.Errorf("cannot resolve %s", dnsErr.Name)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// cachePath is where an archive with a known digest is kept; "" when
// there is no digest to trust a cached copy by.
func cachePath(name, version, dig string) string {
	if dig == "" {
		return ""
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "kubectl-mesh", "charts", fmt.Sprintf("%s-%s-%.16s.tgz", name, version, strings.ToLower(dig)))
}

func readCached(path, dig string) ([]byte, bool) {
	if path == "" {
		return nil, false
	}
	data, err := os.ReadFile(path)
	if err != nil || digest(data) != strings.ToLower(dig) {
		return nil, false
	}
	return data, true
}

// writeCache is best effort: a read-only home only costs a download.
func writeCache(path string, data []byte) {
	if path == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".download-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
	}
}
