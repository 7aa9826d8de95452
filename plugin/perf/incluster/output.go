package incluster

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"fortio.org/fortio/fhttp"
)

// maxOutput bounds what is read of a pod's output.
const maxOutput = 64 << 20

// tailLines is how many of the pod's last lines an error quotes.
const tailLines = 20

// ParseOutput finds fortio's result in a load generator's output: stdout
// (the -json - result, pretty-printed over many lines) and stderr (fortio's
// progress and its log lines, themselves one-line JSON objects) interleaved
// as `kubectl logs` returns them. The last HTTP result wins.
func ParseOutput(r io.Reader) (*fhttp.HTTPRunnerResults, error) {
	lines, err := readLines(r)
	if err != nil {
		return nil, fmt.Errorf("reading the job's output: %w", err)
	}
	var (
		found   *fhttp.HTTPRunnerResults
		lastErr error
	)
	for i := 0; i < len(lines); i++ {
		block, next, ok := jsonBlock(lines, i)
		if !ok {
			continue
		}
		res, err := decodeResult(block)
		switch {
		case err != nil:
			lastErr = err
		case res != nil:
			found = res
			i = next
		}
	}
	if found != nil {
		return found, nil
	}
	msg := "no fortio result in the job's output"
	if lastErr != nil {
		msg = fmt.Sprintf("no readable fortio result in the job's output (%v)", lastErr)
	}
	return nil, fmt.Errorf("%s (last lines:\n%s)", msg, tail(lines, tailLines))
}

// tail renders the last n lines, indented, for an error message.
func tail(lines []string, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return "  <no output>"
	}
	return "  " + strings.Join(lines, "\n  ")
}

func readLines(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxOutput))
	sc.Buffer(make([]byte, 64<<10), maxOutput)
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	return lines, sc.Err()
}

// jsonBlock returns the JSON object starting at lines[i] and the index of
// its last line. A one-line object is taken as is. json.MarshalIndent's
// top-level object opens with "{" alone and closes with "}" alone, and
// every line between is indented; an unindented line inside is another
// stream's line interleaved and is skipped.
func jsonBlock(lines []string, i int) (string, int, bool) {
	line := lines[i]
	if strings.HasPrefix(line, "{") && strings.HasSuffix(line, "}") {
		return line, i, true
	}
	if line != "{" {
		return "", i, false
	}
	var b strings.Builder
	b.WriteString("{\n")
	for j := i + 1; j < len(lines); j++ {
		switch l := lines[j]; {
		case l == "}":
			b.WriteString("}")
			return b.String(), j, true
		case l == "{":
			// A new top-level object: this one was cut short.
			return b.String(), j - 1, true
		case strings.HasPrefix(l, " "):
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String(), len(lines) - 1, true
}

// decodeResult returns the HTTP result in block, nil for another JSON
// object (a log line), or an error for a result that does not decode.
func decodeResult(block string) (*fhttp.HTTPRunnerResults, error) {
	var probe struct {
		RunType           string
		DurationHistogram json.RawMessage
		Error             bool   `json:"error"`
		Message           string `json:"message"`
		Exception         string `json:"exception"`
	}
	if err := json.Unmarshal([]byte(block), &probe); err != nil {
		if strings.Contains(block, `"RunType": "HTTP"`) {
			return nil, fmt.Errorf("decoding the result: %w", err)
		}
		return nil, nil
	}
	if probe.RunType != "HTTP" {
		return nil, nil
	}
	if probe.Error {
		return nil, fmt.Errorf("fortio reported an error: %s", reasonMessage(probe.Message, probe.Exception))
	}
	if len(probe.DurationHistogram) == 0 || string(probe.DurationHistogram) == "null" {
		return nil, errors.New("the result has no DurationHistogram")
	}
	var res fhttp.HTTPRunnerResults
	if err := json.Unmarshal([]byte(block), &res); err != nil {
		return nil, fmt.Errorf("decoding the result: %w", err)
	}
	return &res, nil
}
