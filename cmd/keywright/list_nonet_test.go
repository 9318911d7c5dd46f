package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// `list --expiring` never touches the network (README "Certificate
// authority"): no code path from (*ListCmd).Run reaches a dial. The call
// graph is built from this package's source, conservatively: a call f()
// may reach every function or variable named f, a call x.m() every method
// named m, a function named as a value is reached too. The libraries list
// uses (ca and what it imports from this module) must not dial at all.
func TestListNeverDials(t *testing.T) {
	// What the libraries export that dials: a call of it is a dial.
	dialing := &dialSet{funcs: map[string]bool{}, methods: map[string]bool{}}
	for _, lib := range []string{"ca", "store", "csr", "keygen", "sshkeys", "sshkeys/remote"} {
		lg := parsePackage(t, filepath.Join("..", "..", lib), nil)
		pkg := filepath.Base(lib)
		for name, decls := range lg.decls {
			if !ast.IsExported(name) || strings.Contains(name, ".") || !lg.reaches(name) {
				continue
			}
			for _, d := range decls {
				if d.Recv == nil {
					dialing.funcs[pkg+"."+name] = true
				} else {
					dialing.methods[name] = true
				}
			}
			if !strings.HasPrefix(lib, "sshkeys") {
				t.Errorf("%s.%s dials: list --expiring, which uses ca, store, csr and keygen, would reach the network", lib, name)
			}
		}
		if len(lg.netImports) > 0 && !strings.HasPrefix(lib, "sshkeys") {
			t.Errorf("package %s imports %v: list --expiring would reach the network", lib, lg.netImports)
		}
	}
	if !dialing.methods["Install"] {
		t.Fatal("the test is blind: it does not see that ssh install's remote.Job.Install dials")
	}
	t.Logf("dialing: %v %v", dialing.funcs, dialing.methods)
	g := parsePackage(t, ".", dialing)
	for _, cmd := range []string{"InspectCmd.Run", "VerifyCmd.Run", "SSHInstallCmd.Run"} {
		if !g.reaches(cmd) {
			t.Fatalf("the test is blind: it does not see %s dial", cmd)
		}
	}
	if g.reaches("ListCmd.Run") {
		t.Fatalf("list can reach a dial: %s", strings.Join(g.path, " -> "))
	}
}

// dialSet is what other packages export that dials: functions by
// "pkg.Name", methods by name.
type dialSet struct{ funcs, methods map[string]bool }

// callGraph is what parsePackage finds: the declarations by name and the
// ones that dial.
type callGraph struct {
	decls      map[string][]*ast.FuncDecl // functions by name; methods by "m" and "Type.m"
	vars       map[string][]ast.Node      // package variables' values by name
	dials      map[ast.Node]string        // declarations that dial, and what they call
	netImports []string
	dialing    *dialSet // what other packages export that dials
	path       []string // the path reaches found
}

func parsePackage(t *testing.T, dir string, dialing *dialSet) *callGraph {
	t.Helper()
	g := &callGraph{decls: map[string][]*ast.FuncDecl{}, vars: map[string][]ast.Node{}, dials: map[ast.Node]string{}, dialing: dialing}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		g.addFile(f)
	}
	return g
}

func (g *callGraph) addFile(f *ast.File) {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "net/http" || p == "crypto/tls" || p == "net/rpc" {
			g.netImports = append(g.netImports, p)
		}
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			g.decls[d.Name.Name] = append(g.decls[d.Name.Name], d)
			if d.Recv != nil {
				typ := d.Recv.List[0].Type
				if star, ok := typ.(*ast.StarExpr); ok {
					typ = star.X
				}
				if id, ok := typ.(*ast.Ident); ok {
					g.decls[id.Name+"."+d.Name.Name] = append(g.decls[id.Name+"."+d.Name.Name], d)
				}
			}
			g.noteDials(d)
		case *ast.GenDecl:
			for _, s := range d.Specs {
				if vs, ok := s.(*ast.ValueSpec); ok {
					for _, name := range vs.Names {
						g.vars[name.Name] = append(g.vars[name.Name], vs)
					}
					g.noteDials(vs)
				}
			}
		}
	}
}

// noteDials records n when it calls or names a Dial* of any package or
// value (net.Dial, tls.Dialer, ssh.Dial, ...), or what g.dialing lists.
func (g *callGraph) noteDials(n ast.Node) {
	ast.Inspect(n, func(x ast.Node) bool {
		sel, ok := x.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		name := sel.Sel.Name
		if pkg, ok := sel.X.(*ast.Ident); ok && g.dialing != nil && g.dialing.funcs[pkg.Name+"."+name] {
			g.dials[n] = pkg.Name + "." + name
		} else if strings.HasPrefix(name, "Dial") || g.dialing != nil && g.dialing.methods[name] {
			g.dials[n] = name
		}
		return true
	})
}

// reaches reports whether the declaration named start reaches a dial,
// leaving the path in g.path.
func (g *callGraph) reaches(start string) bool {
	seen := map[ast.Node]bool{}
	var walk func(n ast.Node, path []string) bool
	walk = func(n ast.Node, path []string) bool {
		if seen[n] {
			return false
		}
		seen[n] = true
		if what, ok := g.dials[n]; ok {
			g.path = append(path, what)
			return true
		}
		found := false
		ast.Inspect(n, func(x ast.Node) bool {
			var targets []ast.Node
			var name string
			switch x := x.(type) {
			case *ast.SelectorExpr:
				name = x.Sel.Name
				for _, d := range g.decls[name] {
					if d.Recv != nil {
						targets = append(targets, d)
					}
				}
			case *ast.Ident:
				name = x.Name
				for _, d := range g.decls[name] {
					if d.Recv == nil {
						targets = append(targets, d)
					}
				}
				targets = append(targets, g.vars[name]...)
			}
			for _, t := range targets {
				if !found && t != n && walk(t, append(slices.Clip(path), name)) {
					found = true
				}
			}
			return !found
		})
		return found
	}
	for _, d := range g.decls[start] {
		if walk(d, []string{start}) {
			return true
		}
	}
	return false
}
