package gamma

import (
	"fmt"
	"strconv"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// duration turns a pattern duration (Go syntax, "1.5s") into Gateway
// API's GEP-2257 form ("1s500ms"): at most four of h, m, s, ms, each with
// at most five digits, nothing below a millisecond.
func duration(path, s string) (gatewayv1.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return "", fmt.Errorf("%s: %q is not a duration (\"2s\", \"250ms\"): %w", path, s, err)
	}
	if d < 0 || d%time.Millisecond != 0 {
		return "", fmt.Errorf("%s: %q cannot be written as a Gateway API duration: whole milliseconds only", path, s)
	}
	if d == 0 {
		return "0s", nil
	}
	var out string
	for _, unit := range []struct {
		size time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		n := d / unit.size
		d -= n * unit.size
		if n == 0 {
			continue
		}
		if n > 99999 {
			return "", fmt.Errorf("%s: %q is too long for a Gateway API duration", path, s)
		}
		out += strconv.FormatInt(int64(n), 10) + unit.name
	}
	return gatewayv1.Duration(out), nil
}
