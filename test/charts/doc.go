// Package charts holds the Helm charts the project writes for its tests
// (see README.md); its test renders them as `helm template` does, so that
// a broken test chart fails there rather than deep inside an end-to-end
// test. test/helmrepo serves them.
package charts
