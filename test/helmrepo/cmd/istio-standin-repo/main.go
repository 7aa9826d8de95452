// Command istio-standin-repo serves a local stand-in for Istio's Helm
// repository on loopback (helmrepo.IstioReleases: the charts kubectl mesh
// embeds, relabelled as releases), for the demo in a sandbox that cannot
// reach istio-release.storage.googleapis.com. It prints the repository URL
// on its first line of output and serves until it is stopped.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/kubectl-mesh/kubectl-mesh/plugin/mesh/istio"
	"github.com/kubectl-mesh/kubectl-mesh/test/helmrepo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "istio-standin-repo:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to serve on")
	versions := flag.String("versions", "1.30.8,"+istio.DefaultVersion, "comma-separated release versions to serve")
	flag.Parse()

	host, _, err := net.SplitHostPort(*listen)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--listen %q: want a loopback address such as 127.0.0.1:0", *listen)
	}
	charts, err := helmrepo.IstioReleases(strings.Split(*versions, ",")...)
	if err != nil {
		return fmt.Errorf("building the charts: %w", err)
	}
	dir, err := os.MkdirTemp("", "istio-standin-repo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	url := "http://" + l.Addr().String()
	if err := helmrepo.Build(dir, url, charts...); err != nil {
		return err
	}
	fmt.Println(url)

	// Stop on SIGINT or SIGTERM, removing the charts.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go func() {
		<-ctx.Done()
		_ = srv.Close() // Serve returns, and run with it
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
