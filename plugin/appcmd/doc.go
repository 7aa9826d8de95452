// Package appcmd holds `kubectl mesh app list|deploy|delete|status`: the
// sample applications of plugin/app, applied as ApplySets by
// plugin/pattern/apply.
package appcmd
