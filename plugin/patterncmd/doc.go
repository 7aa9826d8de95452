// Package patterncmd holds the pattern commands: render, apply, diff,
// delete and list. The work is in plugin/pattern (loading, translation) and
// plugin/pattern/apply (server-side apply with ApplySets).
package patterncmd
