package policies

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
)

// InventoryChanges are objects added or changed (Put, as Inventory.Add
// takes them) and objects gone (Removed) since the last inventory.
type InventoryChanges struct {
	Put     []map[string]any
	Removed []Resource
}

// UpdateInventory applies changes to the inventory in force and recomputes
// only the index entries they affect: the namespace tables of the
// namespaces they touch and the tables of their kinds. Like SetInventory it
// is one transaction. After an error, or before any SetInventory, it
// refuses changes until SetInventory has set a whole inventory again.
func (e *Engine) UpdateInventory(ctx context.Context, changes InventoryChanges) error {
	e.inventoryMu.Lock()
	defer e.inventoryMu.Unlock()
	s := e.index
	if s == nil {
		return errors.New("updating the inventory: no inventory to update; set a whole one")
	}
	// The transaction may fail after s changed: s is then stale.
	e.index = nil
	err := storage.Txn(ctx, e.store, storage.WriteParams, func(txn storage.Transaction) error {
		touched := touchedEntries{namespaces: map[string]bool{}, entries: map[indexKey]bool{}}
		for _, r := range changes.Removed {
			if err := s.remove(ctx, e.store, txn, r, &touched); err != nil {
				return fmt.Errorf("removing %s from the inventory: %w", r, err)
			}
		}
		for _, obj := range changes.Put {
			if err := s.put(ctx, e.store, txn, obj, &touched); err != nil {
				return fmt.Errorf("writing the inventory: %w", err)
			}
		}
		return s.reindex(ctx, e.store, txn, touched)
	})
	if err != nil {
		return err
	}
	e.index = s
	return nil
}

// touchedEntries are what a change affects in the index.
type touchedEntries struct {
	namespaces map[string]bool // whose namespace-table entries are stale
	refs       []Kind          // whose refs changed
	entries    map[indexKey]bool
}

// change takes back what old (nil for none) contributed to the index and
// adds what value (nil for none) contributes, for the object at path;
// namespaceChanged is true when the change adds or removes its namespace.
func (s *indexState) change(path []string, old, value ast.Value, namespaceChanged bool, touched *touchedEntries) {
	if path[0] != "namespace" {
		return // cluster-scoped objects are in no table
	}
	ns, av, kind, name := path[1], path[2], path[3], path[4]
	group, ok := groupOf(av)
	if !ok {
		return
	}
	// Every namespace has workloads and pod_label_sets entries: a
	// namespace that comes or goes changes them whatever the kind.
	if _, pods := podLabelPaths[group][kind]; pods || namespaceChanged {
		touched.namespaces[ns] = true
	}
	if k := (Kind{Group: group, Kind: kind}); (old == nil) != (value == nil) && !slices.Contains(touched.refs, k) {
		touched.refs = append(touched.refs, k)
	}
	if old != nil {
		s.contribute(namespacedObject{ns, av, name, old}, kind, -1, touched.entries)
	}
	if value != nil {
		s.contribute(namespacedObject{ns, av, name, value}, kind, 1, touched.entries)
	}
}

// objectPath is where an object lives in the inventory document: the tree
// ("cluster" or "namespace") and the keys below it.
func objectPath(apiVersion, kind, ns, name string) []string {
	if ns == "" {
		return []string{"cluster", apiVersion, kind, name}
	}
	return []string{"namespace", ns, apiVersion, kind, name}
}

// put writes obj at its path, creating the levels above it that are missing.
func (s *indexState) put(ctx context.Context, store storage.Store, txn storage.Transaction, obj map[string]any, touched *touchedEntries) error {
	apiVersion, kind, ns, name, ok := identity(obj)
	if !ok {
		return nil
	}
	value, err := inventoryValue(obj)
	if err != nil {
		return err
	}
	path := objectPath(apiVersion, kind, ns, name)
	// Find the first missing level: the store gets the subtree from there.
	level := s.doc
	depth := 1
	for ; depth < len(path); depth++ {
		next, ok := level[path[depth-1]].(map[string]any)
		if !ok {
			break
		}
		level = next
	}
	var written any = value
	for i := len(path) - 1; i >= depth; i-- {
		written = map[string]any{path[i]: written}
	}
	var old ast.Value
	if depth == len(path) {
		old, _ = level[name].(ast.Value)
		level[name] = value
	} else {
		level[path[depth-1]] = asTree(written)
	}
	s.change(path, old, value, depth <= 2, touched)
	return store.Write(ctx, txn, storage.AddOp, append(storage.Path{"inventory"}, path[:depth]...), written)
}

// asTree copies the levels of a written subtree for the engine's own document.
func asTree(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, c := range m {
		out[k] = asTree(c)
	}
	return out
}

// remove deletes the object r names, and the levels above it it leaves
// empty: a rebuilt document would not have them.
func (s *indexState) remove(ctx context.Context, store storage.Store, txn storage.Transaction, r Resource, touched *touchedEntries) error {
	path := objectPath(r.APIVersion, r.Kind, r.Namespace, r.Name)
	levels := []map[string]any{s.doc}
	for _, key := range path[:len(path)-1] {
		next, ok := levels[len(levels)-1][key].(map[string]any)
		if !ok {
			return nil // not in the inventory
		}
		levels = append(levels, next)
	}
	old, ok := levels[len(levels)-1][r.Name].(ast.Value)
	if !ok {
		return nil
	}
	// The highest level that holds nothing else goes, never a tree root.
	depth := len(path)
	for depth > 2 && len(levels[depth-1]) == 1 {
		depth--
	}
	delete(levels[depth-1], path[depth-1])
	s.change(path, old, nil, depth == 2, touched)
	return store.Write(ctx, txn, storage.RemoveOp, append(storage.Path{"inventory"}, path[:depth]...), nil)
}

// reindex recomputes the namespace entries touched names and writes every
// entry that changed.
func (s *indexState) reindex(ctx context.Context, store storage.Store, txn storage.Transaction, touched touchedEntries) error {
	write := func(path storage.Path, v ast.Value) error {
		if v == nil {
			if _, err := store.Read(ctx, txn, path); storage.IsNotFound(err) {
				return nil
			}
			return store.Write(ctx, txn, storage.RemoveOp, path, nil)
		}
		return store.Write(ctx, txn, storage.AddOp, path, v)
	}
	at := func(keys ...string) storage.Path { return append(slices.Clone(indexCachePath), keys...) }
	for ns := range touched.namespaces {
		s.indexNamespace(ns)
		n, ok := s.byNamespace[ns]
		values := make([]ast.Value, 4)
		if ok {
			values[0], values[1] = n.workloads, n.labelSets
			if n.sources.Len() > 0 {
				values[2], values[3] = n.sources, n.setsByLabel
			}
		}
		for i, table := range namespaceTables {
			if err := write(at(table, ns), values[i]); err != nil {
				return fmt.Errorf("writing the inventory index: %w", err)
			}
		}
	}
	for _, k := range touched.refs {
		var v ast.Value
		if list, ok := s.refs[k]; ok {
			v = ast.NewArray(slices.Clone(list)...)
		}
		if _, err := store.Read(ctx, txn, at("refs", k.Group)); storage.IsNotFound(err) && v != nil {
			v = ast.NewObject(ast.Item(ast.StringTerm(k.Kind), ast.NewTerm(v)))
			if err := write(at("refs", k.Group), v); err != nil {
				return fmt.Errorf("writing the inventory index: %w", err)
			}
			continue
		}
		if err := write(at("refs", k.Group, k.Kind), v); err != nil {
			return fmt.Errorf("writing the inventory index: %w", err)
		}
		if group, err := store.Read(ctx, txn, at("refs", k.Group)); err == nil && group.(ast.Object).Len() == 0 {
			if err := write(at("refs", k.Group), nil); err != nil {
				return fmt.Errorf("writing the inventory index: %w", err)
			}
		}
	}
	for e := range touched.entries {
		var v ast.Value
		path := at(e.table, e.key)
		if entry, ok := s.tables[e.table][e.key]; ok {
			v = entry.value()
		}
		if slices.Contains(setTables, e.table) {
			path, v = at(e.table), s.setValue(e.table)
		}
		if err := write(path, v); err != nil {
			return fmt.Errorf("writing the inventory index: %w", err)
		}
	}
	return nil
}

// inventoryValue converts obj as the inventory holds it: sanitized.
func inventoryValue(obj map[string]any) (ast.Value, error) {
	if !sanitized(obj) {
		obj = sanitize(obj)
	}
	v, err := ast.InterfaceToValue(obj)
	if err != nil {
		return nil, fmt.Errorf("converting an inventory object: %w", err)
	}
	return v, nil
}
