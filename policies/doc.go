// Package policies is the policy engine and the Rego policy library: it
// compiles the policies once, routes each object to the policies of its kind
// and evaluates them. The webhook, the background audit and `kubectl mesh
// check` all evaluate policies through it (see README.md here and
// docs/architecture.md).
package policies
