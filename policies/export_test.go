package policies

// DisablePrefilter makes e evaluate every routed policy whatever its
// custom.requires says, for the equivalence test.
func DisablePrefilter(e *Engine) { e.noPrefilter = true }
