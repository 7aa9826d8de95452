// Package cmdutil is what every kubectl mesh command shares, as kubectl's
// pkg/cmd/util is: the Factory that makes every client, the Complete,
// Validate, Run pattern, the shared flags (--dry-run, --mesh, -o) and exit
// codes. docs/architecture.md maps the command areas that use it.
package cmdutil
