package policies

import (
	"fmt"
	"strings"
)

// Kind names what a policy reviews or looks up: "networking.istio.io/VirtualService",
// "Service" for the core group, "networking.istio.io/*" or "*" for every kind.
type Kind struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
}

// ParseKind reads "group/Kind" or "Kind" (core group).
func ParseKind(s string) (Kind, error) {
	s = strings.TrimSpace(s)
	if s == "*" {
		return Kind{Group: "*", Kind: "*"}, nil
	}
	group, kind, found := strings.Cut(s, "/")
	if !found {
		group, kind = "", s
	}
	if kind == "" || strings.Contains(kind, "/") || strings.ContainsAny(s, " \t") {
		return Kind{}, fmt.Errorf("%q is not a kind: write group/Kind, for example networking.istio.io/VirtualService, or Kind for the core group", s)
	}
	if kind != "*" && (kind[0] < 'A' || kind[0] > 'Z') {
		return Kind{}, fmt.Errorf("%q is not a kind: the kind is written in CamelCase, for example VirtualService", s)
	}
	return Kind{Group: group, Kind: kind}, nil
}

func (k Kind) String() string {
	if k.Group == "*" && k.Kind == "*" {
		return "*"
	}
	if k.Group == "" {
		return k.Kind
	}
	return k.Group + "/" + k.Kind
}

// Matches reports whether k covers the group and kind, wildcards included.
func (k Kind) Matches(group, kind string) bool {
	return (k.Group == "*" || k.Group == group) && (k.Kind == "*" || k.Kind == kind)
}

func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }
