package cmdutil

import "errors"

// Exit codes of kubectl mesh (docs/architecture.md, principle 9). CI pipelines gate on 3.
const (
	ExitOK        = 0
	ExitError     = 1
	ExitViolation = 3 // policy violations or a performance regression were found
)

// ExitCodeError carries the exit code a command wants, for results that are not
// failures of the tool itself (violations, regressions). Err may be nil when
// the command already printed everything the user needs.
type ExitCodeError struct {
	Code int
	Err  error
}

func (e *ExitCodeError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *ExitCodeError) Unwrap() error { return e.Err }

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var coded *ExitCodeError
	if errors.As(err, &coded) {
		return coded.Code
	}
	return ExitError
}
