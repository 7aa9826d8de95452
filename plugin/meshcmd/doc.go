// Package meshcmd holds the mesh lifecycle commands: precheck, install,
// upgrade, uninstall, status, revision and inject. They reach meshes only
// through the Factory's registry (plugin/mesh) and install through
// plugin/lifecycle.
package meshcmd
