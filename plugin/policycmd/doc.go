// Package policycmd holds the compliance commands that read policies:
// check (files or the cluster) and policies list|describe. The engine is
// the policies package.
package policycmd
