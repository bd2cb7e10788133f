package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	goacd "github.com/ncw/go-acd"
	"golang.org/x/oauth2"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/client"
	"github.com/clouddrive/clouddrive/internal/drivetest"
)

// sdkPair is a go-acd client and an SDK client for the same user, so each
// can check what the other did.
type sdkPair struct {
	t    *testing.T
	acd  *goacd.Client
	sdk  *client.Client
	root string
}

func newSDKPair(t *testing.T, s *drivetest.Server, user string) *sdkPair {
	t.Helper()
	g, tok := newClient(t, s, user)
	c, err := client.New(s.URL, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok}))
	if err != nil {
		t.Fatal(err)
	}
	root, err := c.Root(context.Background())
	if err != nil {
		t.Fatalf("SDK Root: %v", err)
	}
	return &sdkPair{t: t, acd: g, sdk: c, root: root.ID}
}

// sameNode compares the fields go-acd decodes with the SDK's node.
func sameNode(t *testing.T, what string, g *goacd.Node, n *acd.Node) {
	t.Helper()
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if str(g.Id) != n.ID || str(g.Name) != n.Name || str(g.Kind) != n.Kind || str(g.Status) != n.Status ||
		str(g.ModifiedDate) != n.ModifiedDate || !slices.Equal(g.Parents, n.Parents) {
		t.Errorf("%s: go-acd sees %s %q %s %s %s %v; SDK sees %s %q %s %s %s %v", what,
			str(g.Id), str(g.Name), str(g.Kind), str(g.Status), str(g.ModifiedDate), g.Parents,
			n.ID, n.Name, n.Kind, n.Status, n.ModifiedDate, n.Parents)
	}
	if (g.ContentProperties == nil) != (n.ContentProperties == nil) {
		t.Errorf("%s: contentProperties present: go-acd %v, SDK %v", what, g.ContentProperties != nil, n.ContentProperties != nil)
		return
	}
	if cp := g.ContentProperties; cp != nil {
		if int64(*cp.Size) != n.ContentProperties.Size || str(cp.Md5) != n.ContentProperties.MD5 || str(cp.ContentType) != n.ContentProperties.ContentType {
			t.Errorf("%s: content go-acd %d %s %s; SDK %+v", what, *cp.Size, str(cp.Md5), str(cp.ContentType), n.ContentProperties)
		}
	}
}

// TestSDKAgreesWithGoACD runs the scenarios of TestGoACD with the SDK on
// one side and go-acd on the other: whatever one client writes, the other
// reads back identically.
func TestSDKAgreesWithGoACD(t *testing.T) {
	s := drivetest.New(t, drivetest.Options{})
	ctx := context.Background()

	t.Run("EndpointsAndRoot", func(t *testing.T) {
		p := newSDKPair(t, s, "sdk-endpoints")
		gep, _, err := p.acd.Account.GetEndpoints()
		if err != nil {
			t.Fatal(err)
		}
		ep, err := p.sdk.Endpoint(ctx)
		if err != nil || ep.MetadataURL != gep.MetadataURL || ep.ContentURL != gep.ContentURL {
			t.Errorf("SDK endpoint %+v, %v; go-acd %s %s", ep, err, gep.MetadataURL, gep.ContentURL)
		}
		groot, _, err := p.acd.Nodes.GetRoot()
		if err != nil || *groot.Id != p.root {
			t.Errorf("go-acd root %v, %v; SDK root %s", groot, err, p.root)
		}
		gq, _, _ := p.acd.Account.GetQuota()
		q, err := p.sdk.Quota(ctx)
		if err != nil || uint64(q.Quota) != *gq.Quota || uint64(q.Available) != *gq.Available {
			t.Errorf("quota: SDK %+v, %v; go-acd %d %d", q, err, *gq.Quota, *gq.Available)
		}
	})

	t.Run("OddNamesBothWays", func(t *testing.T) {
		p := newSDKPair(t, s, "sdk-names")
		groot, _, _ := p.acd.Nodes.GetRoot()
		names := []string{"with space.txt", `quote"s.txt`, `back\slash.txt`, "ünïcödé Straße.txt",
			"-leading-dash.txt", "(paren) [brk] {brace} *star? a+b & c|d ! ^~:.txt", "日本語のファイル.txt", "'single'.txt"}
		for i, name := range names {
			// Even names written by go-acd, odd ones by the SDK.
			if i%2 == 0 {
				if _, _, err := groot.Put(strings.NewReader(name), name); err != nil {
					t.Fatalf("go-acd Put(%q): %v", name, err)
				}
			} else if _, err := p.sdk.Upload(ctx, p.root, name, strings.NewReader(name), nil); err != nil {
				t.Fatalf("SDK Upload(%q): %v", name, err)
			}
		}
		for _, name := range names {
			g, _, err := groot.GetFile(name)
			if err != nil {
				t.Errorf("go-acd GetFile(%q): %v", name, err)
				continue
			}
			n, err := p.sdk.ChildByName(ctx, p.root, strings.ToUpper(name))
			if err != nil {
				t.Errorf("SDK ChildByName(%q): %v", strings.ToUpper(name), err)
				continue
			}
			sameNode(t, name, g.Node, n)
			var buf bytes.Buffer
			if _, err := p.sdk.Download(ctx, n.ID, &buf); err != nil || buf.String() != name {
				t.Errorf("SDK Download(%q) = %q, %v", name, buf.String(), err)
			}
			in, _, err := g.Open()
			if err != nil {
				t.Fatal(err)
			}
			if b := readAll(t, in); string(b) != name {
				t.Errorf("go-acd Open(%q) = %q", name, b)
			}
		}
	})

	t.Run("ContentBothWays", func(t *testing.T) {
		p := newSDKPair(t, s, "sdk-content")
		groot, _, _ := p.acd.Nodes.GetRoot()
		for _, size := range []int{0, 5000, 6 << 20} {
			data := randomBytes(size, uint64(size)+99)
			sdkName, acdName := fmt.Sprintf("sdk-%d.bin", size), fmt.Sprintf("acd-%d.bin", size)
			n, err := p.sdk.Upload(ctx, p.root, sdkName, bytes.NewReader(data), nil)
			if err != nil {
				t.Fatal(err)
			}
			g, _, err := groot.GetFile(sdkName)
			if err != nil {
				t.Fatal(err)
			}
			sameNode(t, sdkName, g.Node, n)
			in, _, err := g.Open()
			if err != nil {
				t.Fatal(err)
			}
			if b := readAll(t, in); !bytes.Equal(b, data) {
				t.Errorf("go-acd reads %d bytes of the SDK's %d", len(b), size)
			}
			gf, _, err := groot.Put(bytes.NewReader(data), acdName)
			if err != nil {
				t.Fatal(err)
			}
			n2, err := p.sdk.Node(ctx, *gf.Id, nil)
			if err != nil {
				t.Fatal(err)
			}
			sameNode(t, acdName, gf.Node, n2)
			var buf bytes.Buffer
			if _, err := p.sdk.Download(ctx, n2.ID, &buf); err != nil || !bytes.Equal(buf.Bytes(), data) {
				t.Errorf("SDK reads %d bytes of go-acd's %d: %v", buf.Len(), size, err)
			}
			if size == 0 {
				continue
			}
			// Temp links from either client serve the same bytes.
			if _, err := gf.GetTempURL(); err != nil {
				t.Fatal(err)
			}
			rc, err := p.sdk.OpenTempLink(ctx, gf.TempURL, 10, 100)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(b, data[10:110]) {
				t.Errorf("SDK through go-acd's tempLink: %d bytes differ", len(b))
			}
			// Overwrite with go-acd, read with the SDK.
			next := randomBytes(size/2+1, 5)
			if _, _, err := g.Overwrite(bytes.NewReader(next)); err != nil {
				t.Fatal(err)
			}
			buf.Reset()
			if _, err := p.sdk.Download(ctx, n.ID, &buf); err != nil || !bytes.Equal(buf.Bytes(), next) {
				t.Errorf("SDK after go-acd Overwrite: %d bytes, %v", buf.Len(), err)
			}
		}
	})

	t.Run("ConflictsAgree", func(t *testing.T) {
		p := newSDKPair(t, s, "sdk-conflicts")
		groot, _, _ := p.acd.Nodes.GetRoot()
		dir, _, err := groot.CreateFolder("Photos")
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.sdk.CreateFolder(ctx, p.root, "PHOTOS", nil)
		var ce *client.ConflictError
		if !errors.As(err, &ce) || ce.NodeID != *dir.Id {
			t.Errorf("SDK CreateFolder over go-acd's folder = %v; want ConflictError(%s)", err, *dir.Id)
		}
		n, err := p.sdk.CreateFolder(ctx, p.root, "Docs", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, resp, err := groot.CreateFolder("docs")
		if status(resp) != http.StatusConflict || err == nil {
			t.Errorf("go-acd CreateFolder over the SDK's = %d, %v; want 409", status(resp), err)
		}
		if _, _, err := groot.GetFolder("nope"); !errors.Is(err, goacd.ErrorNodeNotFound) {
			t.Errorf("go-acd missing = %v", err)
		}
		if _, err := p.sdk.ChildByName(ctx, p.root, "nope"); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("SDK missing = %v", err)
		}
		_ = n
	})

	t.Run("TreeOpsBothWays", func(t *testing.T) {
		p := newSDKPair(t, s, "sdk-tree")
		groot, _, _ := p.acd.Nodes.GetRoot()
		a, _ := p.sdk.CreateFolder(ctx, p.root, "a", nil)
		b, _ := p.sdk.CreateFolder(ctx, p.root, "b", nil)
		f, err := p.sdk.Upload(ctx, a.ID, "f.txt", strings.NewReader("f"), nil)
		if err != nil {
			t.Fatal(err)
		}
		// go-acd moves and renames what the SDK made.
		gf := goacd.NodeFromId(f.ID, p.acd.Nodes)
		if _, err := gf.ReplaceParent(a.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := gf.Rename("g.txt"); err != nil {
			t.Fatal(err)
		}
		n, err := p.sdk.ChildByName(ctx, b.ID, "g.txt")
		if err != nil || n.ID != f.ID {
			t.Fatalf("SDK after go-acd move+rename: %v, %v", n, err)
		}
		// The SDK trashes; go-acd no longer finds it; the SDK restores.
		if _, err := p.sdk.Trash(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := groot.GetFolder("b"); !errors.Is(err, goacd.ErrorNodeNotFound) {
			t.Errorf("go-acd sees a trashed folder: %v", err)
		}
		gb := goacd.NodeFromId(b.ID, p.acd.Nodes)
		if _, _, err := gb.Restore(); err != nil {
			t.Fatalf("go-acd Restore of the SDK's trash: %v", err)
		}
		got, _, err := groot.GetFolder("b")
		if err != nil || *got.Id != b.ID {
			t.Errorf("go-acd GetFolder after restore = %v, %v", got, err)
		}
		// The SDK moves back; go-acd lists.
		if _, err := p.sdk.Move(ctx, f.ID, b.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		ga, _, _ := groot.GetFolder("a")
		kids, _, err := ga.GetAllChildren(&goacd.NodeListOptions{})
		if err != nil || len(kids) != 1 || *kids[0].Id != f.ID {
			t.Errorf("go-acd children of a = %v, %v", kids, err)
		}
	})

	t.Run("PaginationAndChangesAgree", func(t *testing.T) {
		p := newSDKPair(t, s, "sdk-pages")
		groot, _, _ := p.acd.Nodes.GetRoot()
		dir, _ := p.sdk.CreateFolder(ctx, p.root, "many", nil)
		for i := range 230 {
			if _, err := p.sdk.CreateFolder(ctx, dir.ID, fmt.Sprintf("d%03d", i), nil); err != nil {
				t.Fatal(err)
			}
		}
		gdir, _, _ := groot.GetFolder("many")
		gk, _, err := gdir.GetAllChildren(&goacd.NodeListOptions{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		sk, err := client.Collect(p.sdk.Children(ctx, dir.ID, &client.ListOptions{Limit: 50}))
		if err != nil {
			t.Fatal(err)
		}
		ids := func(get func(i int) string, n int) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = get(i)
			}
			sort.Strings(out)
			return out
		}
		if g, k := ids(func(i int) string { return *gk[i].Id }, len(gk)), ids(func(i int) string { return sk[i].ID }, len(sk)); len(g) != 230 || !slices.Equal(g, k) {
			t.Errorf("children: go-acd %d, SDK %d, equal %v", len(g), len(k), slices.Equal(g, k))
		}
		// The same full changes listing, read by both.
		sets, _, err := p.acd.Changes.GetChanges(&goacd.ChangesOptions{ChunkSize: 40})
		if err != nil {
			t.Fatal(err)
		}
		var gids []string
		for _, set := range sets {
			for _, n := range set.Nodes {
				gids = append(gids, *n.Id)
			}
		}
		var sids []string
		for set, err := range p.sdk.Changes(ctx, client.ChangesOptions{ChunkSize: 40, MaxNodes: 70}) {
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range set.Nodes {
				sids = append(sids, n.ID)
			}
		}
		sort.Strings(gids)
		sort.Strings(sids)
		if len(gids) != 232 || !slices.Equal(gids, sids) {
			t.Errorf("changes: go-acd %d nodes, SDK %d (following maxNodes), equal %v", len(gids), len(sids), slices.Equal(gids, sids))
		}
	})
}
