package portforward

import "github.com/go-logr/logr"

// logger is a logr.Logger that records errors and drops the rest: client-go's
// forwarder reports a connection it could not forward only by logging it.
func (l *errorLog) logger() logr.Logger {
	return logr.New(errorSink{l})
}

type errorSink struct{ log *errorLog }

func (errorSink) Init(logr.RuntimeInfo)                   {}
func (errorSink) Enabled(int) bool                        { return false }
func (errorSink) Info(int, string, ...any)                {}
func (s errorSink) Error(err error, msg string, _ ...any) { s.log.record(err, msg) }
func (s errorSink) WithValues(...any) logr.LogSink        { return s }
func (s errorSink) WithName(string) logr.LogSink          { return s }
