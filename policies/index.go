package policies

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The inventory index: the tables of data.mesh.lib.index
// (policies/lib/index.rego), computed here in Go from the data.inventory
// document and stored at data.mesh_index_cache, where policies read them
// through the index package's stub rules. Evaluated as Rego rules they
// cost about ten times a plain walk over a large inventory. index.rego
// stays the specification: Rego unit tests evaluate it against their
// mocked inventory, and TestIndexMatchesRego holds both equal.

// namespaceTables are the tables keyed by namespace, recomputed a
// namespace at a time; keyedTables and setTables are kept an entry at a
// time from what each object contributes to them; refs is a table of its own.
var (
	namespaceTables = []string{"workloads", "pod_label_sets", "pod_sources_by_label", "pod_label_sets_by_label"}
	keyedTables     = []string{"destination_rules_by_host", "virtual_services_by_host", "service_entries_by_host", "gateway_listeners", "gateway_tls_hosts", "gateway_certificates", "secret_certificates", "services_by_selector_label", "pod_label_namespaces"}
	setTables       = []string{"wildcard_destination_rules", "wildcard_virtual_services", "service_entry_hosts"}
)

// objectTree is data.inventory.namespace as the inventory document holds
// it: namespace -> apiVersion -> kind -> name -> object.
type objectTree = map[string]any

// indexState is an inventory document with its index, kept so that a
// change of a few objects recomputes only the entries they affect.
type indexState struct {
	doc         map[string]any // "cluster" and "namespace" trees
	byNamespace map[string]namespaceIndex
	refs        map[Kind][]*ast.Term // sorted
	// tables are the keyed and set tables by key ("" for a set table).
	tables map[string]map[string]*tableEntry
	// visited counts the objects read to compute entries, for tests.
	visited int
}

// tableEntry is the set at one key of a table, each element with the
// number of objects that contribute it.
type tableEntry struct {
	count map[string]int
	elems map[string]*ast.Term
}

func (e *tableEntry) value() ast.Set {
	set := ast.NewSet()
	for _, t := range e.elems {
		set.Add(t)
	}
	return set
}

// newIndexState indexes the data.inventory document doc.
func newIndexState(doc map[string]any) *indexState {
	s := &indexState{doc: doc, byNamespace: map[string]namespaceIndex{}, refs: map[Kind][]*ast.Term{}, tables: map[string]map[string]*tableEntry{}}
	for _, table := range slices.Concat(keyedTables, setTables) {
		s.tables[table] = map[string]*tableEntry{}
	}
	for ns, tree := range s.namespaces() {
		s.indexNamespace(ns)
		for av, kinds := range tree.(map[string]any) {
			for kind, names := range kinds.(map[string]any) {
				for name, obj := range names.(map[string]any) {
					s.contribute(namespacedObject{ns, av, name, obj.(ast.Value)}, kind, 1, nil)
				}
			}
		}
	}
	for k, refs := range s.refs {
		slices.SortFunc(refs, func(a, b *ast.Term) int { return a.Value.Compare(b.Value) })
		s.refs[k] = refs
	}
	return s
}

func (s *indexState) namespaces() objectTree { return s.doc["namespace"].(map[string]any) }

// indexNamespace recomputes the entries of namespace ns.
func (s *indexState) indexNamespace(ns string) {
	tree, ok := s.namespaces()[ns].(map[string]any)
	if !ok {
		delete(s.byNamespace, ns)
		return
	}
	n, visited := buildNamespaceIndex(tree)
	s.byNamespace[ns] = n
	s.visited += visited
}

// value is the whole index.
func (s *indexState) value() ast.Object {
	index := ast.NewObject()
	setNamespaceTables(index, s.byNamespace)
	index.Insert(ast.StringTerm("refs"), ast.NewTerm(s.refsValue()))
	for _, table := range keyedTables {
		entries := ast.NewObject()
		for key, e := range s.tables[table] {
			entries.Insert(ast.StringTerm(key), ast.NewTerm(e.value()))
		}
		index.Insert(ast.StringTerm(table), ast.NewTerm(entries))
	}
	for _, table := range setTables {
		index.Insert(ast.StringTerm(table), ast.NewTerm(s.setValue(table)))
	}
	return index
}

// setValue is a set table.
func (s *indexState) setValue(table string) ast.Set {
	if e, ok := s.tables[table][""]; ok {
		return e.value()
	}
	return ast.NewSet()
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
// tree holds, and counts the objects it read.
func buildNamespaceIndex(tree map[string]any) (namespaceIndex, int) {
	visited := 0
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
				visited++
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
				source := ast.ArrayTerm(ast.StringTerm(av), ast.StringTerm(kind), ast.StringTerm(name))
				forEachLabel(labels, func(pair string) {
					addToSet(n.sources, ast.StringTerm(pair), source)
					addToSet(n.setsByLabel, ast.StringTerm(pair), ast.NewTerm(labels))
				})
			}
		}
	}
	return n, visited
}

// podLabelPaths is where pods and pod templates keep their labels, by
// group and kind: the kinds the policies reading workloads declare in
// custom.inventory and custom.needs.
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

// forEachLabel calls fn with "key=value" for each label of a label map
// (labels or a selector), as the index's Rego writes the pair; a value
// that is not a string has none (Rego's concat fails on it).
func forEachLabel(labels ast.Value, fn func(pair string)) {
	m, ok := labels.(ast.Object)
	if !ok {
		return
	}
	m.Foreach(func(k, v *ast.Term) {
		key, ok1 := k.Value.(ast.String)
		value, ok2 := v.Value.(ast.String)
		if ok1 && ok2 {
			fn(string(key) + "=" + string(value))
		}
	})
}

// namespacedObject is one object of the inventory with where it is.
type namespacedObject struct {
	ns, av, name string
	obj          ast.Value
}

func (o namespacedObject) ref() *ast.Term {
	return ast.ArrayTerm(ast.StringTerm(o.ns), ast.StringTerm(o.av), ast.StringTerm(o.name))
}

// indexKey names an entry of a keyed or set table.
type indexKey struct{ table, key string }

// contribute adds (delta 1) or takes back (delta -1) what object o of kind
// contributes to refs and to the keyed and set tables, and records the
// entries whose set changed in touched. Without touched (a whole build)
// refs are appended, and sorted by the caller.
func (s *indexState) contribute(o namespacedObject, kind string, delta int, touched map[indexKey]bool) {
	group, ok := groupOf(o.av)
	if !ok {
		return
	}
	k := Kind{Group: group, Kind: kind}
	refs, ref := s.refs[k], o.ref()
	i, found := len(refs), false
	if touched != nil {
		i, found = slices.BinarySearchFunc(refs, ref, func(a, b *ast.Term) int { return a.Value.Compare(b.Value) })
	}
	switch {
	case delta > 0 && !found:
		s.refs[k] = slices.Insert(refs, i, ref)
	case delta < 0 && found:
		if s.refs[k] = slices.Delete(refs, i, i+1); len(s.refs[k]) == 0 {
			delete(s.refs, k)
		}
	}
	add := func(table, key string, elem *ast.Term) {
		entries := s.tables[table]
		e, ok := entries[key]
		if !ok {
			e = &tableEntry{count: map[string]int{}, elems: map[string]*ast.Term{}}
			entries[key] = e
		}
		id := elem.String()
		before := e.count[id]
		e.count[id] = before + delta
		switch {
		case before == 0 && delta > 0:
			e.elems[id] = elem
		case before+delta <= 0:
			delete(e.count, id)
			delete(e.elems, id)
			if len(e.elems) == 0 {
				delete(entries, key)
			}
		default:
			return // the set is the same
		}
		if touched != nil {
			touched[indexKey{table, key}] = true
		}
	}
	if path, ok := podLabelPaths[group][kind]; ok {
		forEachLabel(lookup(o.obj, path...), func(pair string) {
			add("pod_label_namespaces", pair, ast.StringTerm(o.ns))
		})
	}
	if group == "" {
		switch kind {
		case "Secret":
			s.visited++
			if text, ok := certificateText(o.obj); ok {
				add("secret_certificates", o.ns+"/"+o.name, ast.NewTerm(certificateFacts(text)))
			}
		case "Service":
			s.visited++
			forEachLabel(lookup(o.obj, "spec", "selector"), func(pair string) {
				add("services_by_selector_label", o.ns+" "+pair, ast.StringTerm(o.name))
			})
		}
		return
	}
	if group != "networking.istio.io" {
		return
	}
	s.visited++
	switch kind {
	case "DestinationRule":
		if host, ok := lookup(o.obj, "spec", "host").(ast.String); ok {
			add("destination_rules_by_host", fqdn(string(host), o.ns), o.ref())
			if strings.HasPrefix(string(host), "*") {
				add("wildcard_destination_rules", "", o.ref())
			}
		}
	case "VirtualService":
		forEachElement(objectGet(o.obj, ast.NewArray(), "spec", "hosts"), func(_, host *ast.Term) {
			if h, ok := host.Value.(ast.String); ok {
				add("virtual_services_by_host", fqdn(string(h), o.ns), o.ref())
				if strings.HasPrefix(string(h), "*") {
					add("wildcard_virtual_services", "", o.ref())
				}
			}
		})
	case "ServiceEntry":
		forEachElement(objectGet(o.obj, ast.NewArray(), "spec", "hosts"), func(_, host *ast.Term) {
			add("service_entry_hosts", "", host)
			if h, ok := host.Value.(ast.String); ok {
				add("service_entries_by_host", fqdn(string(h), o.ns), o.ref())
			}
		})
	case "Gateway":
		gatewayServers(o, add)
	}
}

// gatewayServers adds the servers of Gateway o to the gateway tables,
// keyed as data.mesh.lib.gateway groups them into listeners.
func gatewayServers(o namespacedObject, add func(table, key string, elem *ast.Term)) {
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
		add("gateway_listeners", selectorKey+" "+listener+" "+serverClass(server), ref)
		if hasTLS(server) {
			forEachElement(objectGet(server, ast.NewArray(), "hosts"), func(_, raw *ast.Term) {
				if h, ok := raw.Value.(ast.String); ok {
					host := string(h)[strings.Index(string(h), "/")+1:]
					add("gateway_tls_hosts", selectorKey+" "+listener+" "+host, ref)
				}
			})
		}
		if terminates(server) {
			for _, certificate := range serverCertificates(server) {
				add("gateway_certificates", listener+" "+certificate, ref)
			}
		}
	})
}

// certificateText is the certificate of a Secret as index.rego's
// _certificate_text reads it: tls.crt, else cert, base64 in data, else as
// written in stringData.
func certificateText(secret ast.Value) (ast.Value, bool) {
	for _, key := range []string{"tls.crt", "cert"} {
		if s, ok := lookup(secret, "data", key).(ast.String); ok {
			if b, err := base64.StdEncoding.DecodeString(string(s)); err == nil {
				return ast.String(b), true
			}
		}
	}
	for _, key := range []string{"tls.crt", "cert"} {
		if v := lookup(secret, "stringData", key); v != nil {
			return v, true
		}
	}
	return nil, false
}

// certificateFacts is what the first certificate of a PEM text says, as
// index.rego's _certificate_facts has crypto.x509.parse_certificates say
// it: NotAfter and Subject.CommonName; {} for no certificate; parses false
// when the text is no PEM of certificates.
func certificateFacts(text ast.Value) ast.Value {
	unparsable := ast.NewObject(ast.Item(ast.InternedTerm("parses"), ast.InternedTerm(false)))
	s, ok := text.(ast.String)
	if !ok {
		return unparsable
	}
	i := strings.Index(string(s), "-----BEGIN")
	if i < 0 {
		return unparsable
	}
	// As OPA reads PEM: every block a certificate, their DER together.
	var der []byte
	rest := []byte(s[i:])
	for len(rest) > 0 {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return unparsable
		}
		der, rest = append(der, block.Bytes...), r
	}
	certs, err := x509.ParseCertificates(der)
	switch {
	case err != nil:
		return unparsable
	case len(certs) == 0:
		return ast.NewObject()
	}
	return ast.NewObject(
		ast.Item(ast.InternedTerm("NotAfter"), ast.StringTerm(certs[0].NotAfter.Format(time.RFC3339Nano))),
		ast.Item(ast.InternedTerm("Subject"), ast.ObjectTerm(ast.Item(ast.InternedTerm("CommonName"), ast.StringTerm(certs[0].Subject.CommonName)))),
	)
}

// refsValue is the refs table: refs[group][kind] lists [namespace,
// apiVersion, name] of every namespaced object of group/kind.
func (s *indexState) refsValue() ast.Object {
	refs := ast.NewObject()
	for k, list := range s.refs {
		group := ast.StringTerm(k.Group)
		if refs.Get(group) == nil {
			refs.Insert(group, ast.ObjectTerm())
		}
		// A copy: the list changes in place, the stored value must not.
		refs.Get(group).Value.(ast.Object).Insert(ast.StringTerm(k.Kind), ast.ArrayTerm(slices.Clone(list)...))
	}
	return refs
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
		t := obj.Get(ast.InternedTerm(key))
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
