// Package buildinfo reports the version of kubectl-mesh binaries. The release
// build sets the variables with -ldflags "-X"; a plain `go build` falls back
// to what the Go toolchain recorded.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set by -ldflags "-X github.com/kubectl-mesh/kubectl-mesh/internal/buildinfo.version=...".
var (
	version   = ""
	gitCommit = ""
	buildDate = ""
)

// Info describes one binary, in the shape of kubectl's version.Info.
type Info struct {
	Version   string `json:"version"`
	GitCommit string `json:"gitCommit,omitempty"`
	BuildDate string `json:"buildDate,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the version of the running binary.
func Get() Info {
	info := Info{
		Version:   version,
		GitCommit: gitCommit,
		BuildDate: buildDate,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if info.Version == "" {
		info.Version = "v0.0.0-dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
	}
	return info
}
