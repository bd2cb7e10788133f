package drive

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

func TestWrapNests(t *testing.T) {
	inner := &Error{Op: "meta.InsertNode", Kind: Conflict, Code: acd.CodeNameAlreadyExists, NodeID: "n1",
		Param: "name", Message: "name taken", RetryAfter: time.Second}
	err := Wrap("nodes.Create", inner)
	if got, want := err.Error(), "nodes.Create: meta.InsertNode: name taken"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	outer := Wrap("httpapi.createNode", err)
	if got, want := outer.Error(), "httpapi.createNode: nodes.Create: meta.InsertNode: name taken"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	de := outer.(*Error)
	if de.Op != "httpapi.createNode" || de.Kind != Conflict || de.Code != acd.CodeNameAlreadyExists {
		t.Errorf("outer = %+v, want op httpapi.createNode, kind and code of the inner error", de)
	}
	if KindOf(outer) != Conflict || !Is(Conflict, outer) {
		t.Errorf("KindOf = %v, want conflict", KindOf(outer))
	}
	if got := AsError(outer); got != inner {
		t.Errorf("AsError = %+v, want the inner error", got)
	}
	if !errors.Is(outer, inner) {
		t.Error("errors.Is(outer, inner) = false")
	}
	// The same op twice does not stutter.
	if again := Wrap("httpapi.createNode", outer); again != outer {
		t.Errorf("Wrap with the same op = %v, want the error unchanged", again)
	}
	// An *Error inside another error is found and nested.
	mid := fmt.Errorf("listing: %w", inner)
	if got, want := Wrap("nodes.List", mid).Error(), "nodes.List: listing: meta.InsertNode: name taken"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := AsError(Wrap("nodes.List", mid)); got != inner {
		t.Errorf("AsError through fmt.Errorf = %+v, want the inner error", got)
	}
}

func TestWrapPlain(t *testing.T) {
	if Wrap("x", nil) != nil {
		t.Error("Wrap(nil) != nil")
	}
	err := Wrap("blob.Put", io.ErrUnexpectedEOF)
	if got, want := err.Error(), "blob.Put: internal: unexpected EOF"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if KindOf(err) != Internal || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("KindOf = %v, errors.Is = %v", KindOf(err), errors.Is(err, io.ErrUnexpectedEOF))
	}
	if de := AsError(err); de == nil || de.Op != "blob.Put" {
		t.Errorf("AsError = %+v", de)
	}
	if KindOf(io.EOF) != Internal || AsError(io.EOF) != nil {
		t.Error("a plain error is Internal and holds no *Error")
	}
	// A hand-made Error around another keeps its own kind and message.
	re := &Error{Op: "nodes.Get", Kind: NotFound, Message: "no such node", Err: &Error{Op: "meta.Node", Kind: Internal}}
	if KindOf(re) != NotFound || AsError(re) != re {
		t.Errorf("KindOf = %v, AsError = %+v; want the outer error", KindOf(re), AsError(re))
	}
}

func TestNameConflict(t *testing.T) {
	e := NameConflict("nodes.Create", "p1", "Report.PDF", "n2")
	if e.Kind != Conflict || e.Code != acd.CodeNameAlreadyExists || e.NodeID != "n2" {
		t.Errorf("NameConflict = %+v", e)
	}
	if want := "Node with the name report.pdf already exists under parentId p1 conflicting NodeId: n2"; e.Message != want {
		t.Errorf("Message = %q, want %q", e.Message, want)
	}
}
