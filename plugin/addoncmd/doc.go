// Package addoncmd holds `kubectl mesh addon list|install|uninstall|status`:
// the add-ons of plugin/addon, installed as Helm releases through the
// Factory's releases (plugin/lifecycle), as the meshes are.
package addoncmd
