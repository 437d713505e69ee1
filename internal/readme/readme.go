// Package readme rewrites the generated sections of a Markdown document,
// each between "<!-- NAME:start -->" and "<!-- NAME:end -->" lines.
package readme

import (
	"bytes"
	"fmt"
	"strings"
)

// Section returns the body of the named section of doc.
func Section(doc []byte, name string) (string, error) {
	i, j, err := bounds(doc, name)
	if err != nil {
		return "", err
	}
	return string(doc[i:j]), nil
}

// ReplaceSection returns doc with the body of the named section replaced.
func ReplaceSection(doc []byte, name, body string) ([]byte, error) {
	i, j, err := bounds(doc, name)
	if err != nil {
		return nil, err
	}
	return append(append(append([]byte{}, doc[:i]...), body...), doc[j:]...), nil
}

func bounds(doc []byte, name string) (int, int, error) {
	start, end := fmt.Sprintf("<!-- %s:start -->\n", name), fmt.Sprintf("<!-- %s:end -->", name)
	i, j := bytes.Index(doc, []byte(start)), bytes.Index(doc, []byte(end))
	if i < 0 || j < i+len(start) {
		return 0, 0, fmt.Errorf("no section %q: the markers %q ... %q are missing or out of order", name, strings.TrimSpace(start), end)
	}
	return i + len(start), j, nil
}
