// Package codecheck holds checks of the repository's own Go code that
// go vet does not make.
package codecheck

import (
	"go/ast"
	"go/parser"
	"go/token"
)

// BareTypeAssertions lists, as FILE:LINE:COLUMN, every type assertion in
// the files that is not checked: neither the two-value form (v, ok :=
// x.(T)) nor a type switch. An unchecked assertion panics on an unexpected
// value, and in a test binary that shares one synthesis a panic stops every
// other check.
func BareTypeAssertions(files []string) ([]string, error) {
	fset := token.NewFileSet()
	var out []string
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			return nil, err
		}
		checked := map[*ast.TypeAssertExpr]bool{}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if len(n.Lhs) == 2 && len(n.Rhs) == 1 {
					if ta, ok := n.Rhs[0].(*ast.TypeAssertExpr); ok {
						checked[ta] = true
					}
				}
			case *ast.ValueSpec:
				if len(n.Names) == 2 && len(n.Values) == 1 {
					if ta, ok := n.Values[0].(*ast.TypeAssertExpr); ok {
						checked[ta] = true
					}
				}
			case *ast.TypeSwitchStmt:
				ast.Inspect(n.Assign, func(m ast.Node) bool {
					if ta, ok := m.(*ast.TypeAssertExpr); ok {
						checked[ta] = true
					}
					return true
				})
			}
			return true
		})
		ast.Inspect(file, func(n ast.Node) bool {
			if ta, ok := n.(*ast.TypeAssertExpr); ok && ta.Type != nil && !checked[ta] {
				out = append(out, fset.Position(ta.Pos()).String())
			}
			return true
		})
	}
	return out, nil
}
