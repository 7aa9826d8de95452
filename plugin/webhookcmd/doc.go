// Package webhookcmd holds `kubectl mesh webhook install|uninstall|status`;
// the release is plugin/webhookinstall's.
package webhookcmd
