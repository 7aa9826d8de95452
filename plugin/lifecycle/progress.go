package lifecycle

import (
	"fmt"
	"io"
	"time"
)

// progress writes one line per step of a release: "istiod: installing ...".
type progress struct {
	w    io.Writer
	name string
}

func newProgress(w io.Writer, r Release) progress {
	name := r.Component
	if name == "" {
		name = r.Name
	}
	return progress{w: w, name: name}
}

func (p progress) say(format string, args ...any) {
	if p.w == nil {
		return
	}
	fmt.Fprintf(p.w, "%s: %s\n", p.name, fmt.Sprintf(format, args...))
}

// done reports the end of an install or upgrade, with how long it took to
// become ready when it was waited for.
func (p progress) done(what string, waited bool, took time.Duration) {
	took = took.Round(100 * time.Millisecond)
	if waited {
		p.say("%s, ready in %s", what, took)
		return
	}
	p.say("%s in %s", what, took)
}
