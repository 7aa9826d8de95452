package policies

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The inventory index: the tables of data.mesh.lib.index
// (policies/lib/index.rego), computed here in Go from the data.inventory
// document and stored at data.mesh_index_cache, where policies read them
// through the index package's stub rules. Evaluated as Rego rules they
// cost about ten times a plain walk over a large inventory. index.rego
// stays the specification: Rego unit tests evaluate it against their
// mocked inventory, and TestIndexMatchesRego holds both equal.

// namespaceTables are the tables keyed by namespace, and indexTables the
// ones computed from every namespace; an index is both.
var (
	namespaceTables = []string{"workloads", "pod_label_sets", "pod_sources_by_label", "pod_label_sets_by_label"}
	indexTables     = []string{"refs", "destination_rules_by_host", "wildcard_destination_rules",
		"virtual_services_by_host", "service_entry_hosts", "gateway_listeners", "gateway_tls_hosts", "gateway_certificates"}
)

// objectTree is data.inventory.namespace as the inventory document holds
// it: namespace -> apiVersion -> kind -> name -> object.
type objectTree = map[string]any

// buildIndex computes every table of the index from the namespaced
// objects of the inventory document.
func buildIndex(namespaces objectTree) ast.Object {
	byNamespace := make(map[string]namespaceIndex, len(namespaces))
	for ns, tree := range namespaces {
		byNamespace[ns] = buildNamespaceIndex(tree.(map[string]any))
	}
	index := ast.NewObject()
	setNamespaceTables(index, byNamespace)
	for _, table := range indexTables {
		index.Insert(ast.StringTerm(table), ast.NewTerm(buildTable(table, namespaces)))
	}
	return index
}

// namespaceIndex is the entries of one namespace in the namespace tables.
type namespaceIndex struct {
	workloads, labelSets ast.Set
	// by "key=value" pair; empty when no pod carries a label.
	sources, setsByLabel ast.Object
}

// setNamespaceTables (re)places the namespace tables of index.
func setNamespaceTables(index ast.Object, byNamespace map[string]namespaceIndex) {
	tables := [4]ast.Object{ast.NewObject(), ast.NewObject(), ast.NewObject(), ast.NewObject()}
	for ns, n := range byNamespace {
		key := ast.StringTerm(ns)
		tables[0].Insert(key, ast.NewTerm(n.workloads))
		tables[1].Insert(key, ast.NewTerm(n.labelSets))
		// Partial rules of two levels have no entry without elements.
		if n.sources.Len() > 0 {
			tables[2].Insert(key, ast.NewTerm(n.sources))
			tables[3].Insert(key, ast.NewTerm(n.setsByLabel))
		}
	}
	for i, table := range namespaceTables {
		index.Insert(ast.StringTerm(table), ast.NewTerm(tables[i]))
	}
}

// buildNamespaceIndex computes the entries of the namespace whose objects
// tree holds.
func buildNamespaceIndex(tree map[string]any) namespaceIndex {
	n := namespaceIndex{workloads: ast.NewSet(), labelSets: ast.NewSet(), sources: ast.NewObject(), setsByLabel: ast.NewObject()}
	for av, kinds := range tree {
		group, ok := groupOf(av)
		if !ok {
			continue
		}
		for kind, names := range kinds.(map[string]any) {
			path, templated := podLabelPaths[group][kind]
			if !templated {
				continue
			}
			for name, v := range names.(map[string]any) {
				obj := v.(ast.Value)
				labels := objectGet(obj, ast.NewObject(), path...)
				if kind == "CronJob" {
					n.labelSets.Add(ast.NewTerm(labels))
				} else if kind != "Pod" || av == "v1" {
					annotations := objectGet(obj, ast.NewObject(), append(slices.Clone(path[:len(path)-1]), "annotations")...)
					n.workloads.Add(ast.ObjectTerm(
						ast.Item(ast.StringTerm("kind"), ast.StringTerm(kind)),
						ast.Item(ast.StringTerm("name"), ast.StringTerm(name)),
						ast.Item(ast.StringTerm("labels"), ast.NewTerm(labels)),
						ast.Item(ast.StringTerm("annotations"), ast.NewTerm(annotations)),
					))
					n.labelSets.Add(ast.NewTerm(labels))
				}
				pairs, ok := labels.(ast.Object)
				if !ok {
					continue
				}
				source := ast.ArrayTerm(ast.StringTerm(av), ast.StringTerm(kind), ast.StringTerm(name))
				pairs.Foreach(func(k, v *ast.Term) {
					key, ok1 := k.Value.(ast.String)
					value, ok2 := v.Value.(ast.String)
					if !ok1 || !ok2 {
						return // Rego's concat fails on other values
					}
					pair := ast.StringTerm(string(key) + "=" + string(value))
					addToSet(n.sources, pair, source)
					addToSet(n.setsByLabel, pair, ast.NewTerm(labels))
				})
			}
		}
	}
	return n
}

// podLabelPaths is where pods and pod templates keep their labels, by
// group and kind.
var podLabelPaths = map[string]map[string][]string{
	"": {"Pod": {"metadata", "labels"}},
	"apps": {
		"Deployment":  {"spec", "template", "metadata", "labels"},
		"StatefulSet": {"spec", "template", "metadata", "labels"},
		"DaemonSet":   {"spec", "template", "metadata", "labels"},
		"ReplicaSet":  {"spec", "template", "metadata", "labels"},
	},
	"batch": {
		"Job":     {"spec", "template", "metadata", "labels"},
		"CronJob": {"spec", "jobTemplate", "spec", "template", "metadata", "labels"},
	},
}

// tableKinds are the kinds each cross-namespace table is computed from;
// refs reads every kind.
var tableKinds = map[string]Kind{
	"destination_rules_by_host":  {Group: "networking.istio.io", Kind: "DestinationRule"},
	"wildcard_destination_rules": {Group: "networking.istio.io", Kind: "DestinationRule"},
	"virtual_services_by_host":   {Group: "networking.istio.io", Kind: "VirtualService"},
	"service_entry_hosts":        {Group: "networking.istio.io", Kind: "ServiceEntry"},
	"gateway_listeners":          {Group: "networking.istio.io", Kind: "Gateway"},
	"gateway_tls_hosts":          {Group: "networking.istio.io", Kind: "Gateway"},
	"gateway_certificates":       {Group: "networking.istio.io", Kind: "Gateway"},
}

// namespacedObject is one object of the inventory with where it is.
type namespacedObject struct {
	ns, av, name string
	obj          ast.Value
}

// objectsOf lists the namespaced objects of group and kind, in the order
// of namespace, apiVersion and name.
func objectsOf(namespaces objectTree, group, kind string) []namespacedObject {
	var out []namespacedObject
	for ns, tree := range namespaces {
		for av, kinds := range tree.(map[string]any) {
			if g, ok := groupOf(av); !ok || g != group {
				continue
			}
			names, _ := kinds.(map[string]any)[kind].(map[string]any)
			for name, obj := range names {
				out = append(out, namespacedObject{ns, av, name, obj.(ast.Value)})
			}
		}
	}
	slices.SortFunc(out, func(a, b namespacedObject) int {
		return cmp.Or(strings.Compare(a.ns, b.ns), strings.Compare(a.av, b.av), strings.Compare(a.name, b.name))
	})
	return out
}

// buildTable computes one cross-namespace table.
func buildTable(table string, namespaces objectTree) ast.Value {
	if table == "refs" {
		return buildRefs(namespaces)
	}
	k := tableKinds[table]
	objects := objectsOf(namespaces, k.Group, k.Kind)
	switch table {
	case "wildcard_destination_rules":
		out := ast.NewSet()
		for _, o := range objects {
			if host, ok := lookup(o.obj, "spec", "host").(ast.String); ok && strings.HasPrefix(string(host), "*") {
				out.Add(o.ref())
			}
		}
		return out
	case "service_entry_hosts":
		out := ast.NewSet()
		for _, o := range objects {
			forEachElement(objectGet(o.obj, ast.NewArray(), "spec", "hosts"), func(_, host *ast.Term) { out.Add(host) })
		}
		return out
	}
	out := ast.NewObject()
	for _, o := range objects {
		switch table {
		case "destination_rules_by_host":
			if host, ok := lookup(o.obj, "spec", "host").(ast.String); ok {
				addToSet(out, ast.StringTerm(fqdn(string(host), o.ns)), o.ref())
			}
		case "virtual_services_by_host":
			forEachElement(objectGet(o.obj, ast.NewArray(), "spec", "hosts"), func(_, host *ast.Term) {
				if h, ok := host.Value.(ast.String); ok {
					addToSet(out, ast.StringTerm(fqdn(string(h), o.ns)), o.ref())
				}
			})
		default:
			addGatewayServers(out, table, o)
		}
	}
	return out
}

// buildRefs is refs[group][kind]: [namespace, apiVersion, name] of every
// namespaced object of group/kind.
func buildRefs(namespaces objectTree) ast.Value {
	type groupKind struct{ group, kind string }
	byKind := map[groupKind][]namespacedObject{}
	for ns, tree := range namespaces {
		for av, kinds := range tree.(map[string]any) {
			group, ok := groupOf(av)
			if !ok {
				continue
			}
			for kind, names := range kinds.(map[string]any) {
				gk := groupKind{group, kind}
				for name := range names.(map[string]any) {
					byKind[gk] = append(byKind[gk], namespacedObject{ns: ns, av: av, name: name})
				}
			}
		}
	}
	refs := ast.NewObject()
	for gk, objects := range byKind {
		slices.SortFunc(objects, func(a, b namespacedObject) int {
			return cmp.Or(strings.Compare(a.ns, b.ns), strings.Compare(a.av, b.av), strings.Compare(a.name, b.name))
		})
		list := make([]*ast.Term, len(objects))
		for i, o := range objects {
			list[i] = o.ref()
		}
		group := ast.StringTerm(gk.group)
		if refs.Get(group) == nil {
			refs.Insert(group, ast.ObjectTerm())
		}
		refs.Get(group).Value.(ast.Object).Insert(ast.StringTerm(gk.kind), ast.ArrayTerm(list...))
	}
	return refs
}

func (o namespacedObject) ref() *ast.Term {
	return ast.ArrayTerm(ast.StringTerm(o.ns), ast.StringTerm(o.av), ast.StringTerm(o.name))
}

// addGatewayServers adds the servers of Gateway o to table, keyed as
// data.mesh.lib.gateway groups them into listeners.
func addGatewayServers(table ast.Object, name string, o namespacedObject) {
	selector := lookup(o.obj, "spec", "selector")
	if selector == nil || selector.Compare(ast.NullValue) == 0 {
		selector = ast.NewObject()
	}
	selectorKey, err := jsonMarshal(selector)
	if err != nil {
		return
	}
	forEachElement(objectGet(o.obj, ast.NewArray(), "spec", "servers"), func(j, s *ast.Term) {
		server, ok := s.Value.(ast.Object)
		if !ok {
			return
		}
		listener, ok := serverListener(server)
		if !ok {
			return
		}
		ref := ast.ArrayTerm(ast.StringTerm(o.ns), ast.StringTerm(o.av), ast.StringTerm(o.name), j)
		switch name {
		case "gateway_listeners":
			addToSet(table, ast.StringTerm(selectorKey+" "+listener+" "+serverClass(server)), ref)
		case "gateway_tls_hosts":
			if !hasTLS(server) {
				return
			}
			forEachElement(objectGet(server, ast.NewArray(), "hosts"), func(_, raw *ast.Term) {
				if h, ok := raw.Value.(ast.String); ok {
					host := string(h)[strings.Index(string(h), "/")+1:]
					addToSet(table, ast.StringTerm(selectorKey+" "+listener+" "+host), ref)
				}
			})
		case "gateway_certificates":
			if !terminates(server) {
				return
			}
			for _, certificate := range serverCertificates(server) {
				addToSet(table, ast.StringTerm(listener+" "+certificate), ref)
			}
		}
	})
}

var httpProtocols = []string{"HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-WEB"}

// protocol is the server's upper-case port protocol; ok is false when it
// is not a string (Rego's upper fails).
func protocol(server ast.Value) (string, bool) {
	p, ok := objectGet(server, ast.String(""), "port", "protocol").(ast.String)
	return strings.ToUpper(string(p)), ok
}

func hasTLS(server ast.Value) bool {
	tls := lookup(server, "tls")
	return tls != nil && tls.Compare(ast.NullValue) != 0
}

// serverClass is gateway.class: "tls", "http" (plaintext HTTP) or "tcp".
func serverClass(server ast.Value) string {
	p, ok := protocol(server)
	http := ok && slices.Contains(httpProtocols, p)
	switch {
	case hasTLS(server) && !http:
		return "tls"
	case http:
		return "http"
	}
	return "tcp"
}

// serverListener is gateway.listener: "<port number>/<bind>".
func serverListener(server ast.Value) (string, bool) {
	number := lookup(server, "port", "number")
	if s, ok := number.(ast.String); ok && portDigits.MatchString(string(s)) {
		number = ast.Number(s)
	}
	n, ok := number.(ast.Number)
	if !ok {
		return "", false
	}
	port := n.String()
	if i, ok := n.Int(); ok {
		port = fmt.Sprint(i)
	} else if b, ok := new(big.Int).SetString(n.String(), 10); ok {
		port = b.String()
	} else if f, ok := n.Float64(); ok {
		port = fmt.Sprint(f)
	}
	bind := objectGet(server, ast.String(""), "bind")
	if s, ok := bind.(ast.String); ok {
		return port + "/" + string(s), true
	}
	return port + "/" + bind.String(), true
}

var portDigits = regexp.MustCompile(`^[0-9]+$`)

var terminatingModes = []string{"SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"}

// terminates is gateway.terminates: HTTPS with a certificate of its own.
func terminates(server ast.Value) bool {
	p, ok := protocol(server)
	mode, isString := objectGet(server, ast.String(""), "tls", "mode").(ast.String)
	return ok && p == "HTTPS" && isString && slices.Contains(terminatingModes, strings.ToUpper(string(mode)))
}

// serverCertificates is gateway.certificates.
func serverCertificates(server ast.Value) []string {
	names, ok := objectGet(server, ast.NewArray(), "tls", "credentialNames").(*ast.Array)
	if !ok {
		return nil // array.concat fails
	}
	var out []string
	add := func(t *ast.Term) {
		if n, ok := t.Value.(ast.String); ok && n != "" && !slices.Contains(out, fmt.Sprintf("credentialName %q", string(n))) {
			out = append(out, fmt.Sprintf("credentialName %q", string(n)))
		}
	}
	add(ast.NewTerm(objectGet(server, ast.String(""), "tls", "credentialName")))
	names.Foreach(add)
	if len(out) > 0 {
		return out
	}
	if path, ok := objectGet(server, ast.String(""), "tls", "serverCertificate").(ast.String); ok && path != "" {
		return []string{fmt.Sprintf("serverCertificate %q", string(path))}
	}
	return nil
}

// jsonMarshal is Rego's json.marshal.
func jsonMarshal(v ast.Value) (string, error) {
	x, err := ast.JSON(v)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(x)
	return string(b), err
}

// groupOf is the group of an apiVersion; ok is false for one with more
// than one slash (index.rego's _group_of is undefined there).
func groupOf(apiVersion string) (string, bool) {
	group, version, found := strings.Cut(apiVersion, "/")
	if !found {
		return "", true
	}
	return group, !strings.Contains(version, "/")
}

// fqdn is istio.fqdn: short names resolve in the namespace.
func fqdn(host, ns string) string {
	if strings.Contains(host, ".") || host == "*" {
		return host
	}
	return host + "." + ns + ".svc.cluster.local"
}

// lookup returns the value at path, or nil.
func lookup(v ast.Value, path ...string) ast.Value {
	for _, key := range path {
		obj, ok := v.(ast.Object)
		if !ok {
			return nil
		}
		t := obj.Get(ast.StringTerm(key))
		if t == nil {
			return nil
		}
		v = t.Value
	}
	return v
}

// objectGet is Rego's object.get(v, path, def).
func objectGet(v ast.Value, def ast.Value, path ...string) ast.Value {
	if found := lookup(v, path...); found != nil {
		return found
	}
	return def
}

// forEachElement is Rego's `some k, v in x` over an array, object or set.
func forEachElement(v ast.Value, fn func(k, v *ast.Term)) {
	switch x := v.(type) {
	case *ast.Array:
		for i := range x.Len() {
			fn(ast.InternedTerm(i), x.Elem(i))
		}
	case ast.Object:
		x.Foreach(fn)
	case ast.Set:
		x.Foreach(func(t *ast.Term) { fn(t, t) })
	}
}

// addToSet adds elem to the set at key of obj.
func addToSet(obj ast.Object, key, elem *ast.Term) {
	if t := obj.Get(key); t != nil {
		t.Value.(ast.Set).Add(elem)
		return
	}
	obj.Insert(key, ast.SetTerm(elem))
}
