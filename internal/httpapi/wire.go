package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
)

// nodeJSON converts a domain node to its wire form. tempLink adds a signed
// download link to files.
func (s *Server) nodeJSON(r *http.Request, n *drive.Node, tempLink bool) *acd.Node {
	out := NodeJSON(n)
	if tempLink && n.Content != nil && n.Kind == drive.KindFile && n.Status == drive.StatusAvailable {
		exp := s.Now().Add(s.tempLinkTTL())
		out.TempLink = s.contentBaseURL(r) + "/cdproxy/templink/" + url.PathEscape(s.Links.Sign(n.UserID, n.ID, exp))
	}
	return out
}

// NodeJSON converts a domain node to its wire form, as every API reply
// shows it (without a temp link). Webhook payloads use it too.
func NodeJSON(n *drive.Node) *acd.Node {
	out := &acd.Node{
		ID:           n.ID,
		Name:         n.Name,
		Kind:         string(n.Kind),
		Status:       string(n.Status),
		Parents:      n.Parents,
		Labels:       n.Labels,
		Description:  n.Description,
		CreatedDate:  n.CreatedAt.UTC().Format(acd.TimeFormat),
		ModifiedDate: n.ModifiedAt.UTC().Format(acd.TimeFormat),
		CreatedBy:    n.CreatedBy,
		Version:      n.Version,
		ETagResponse: etag(n),
		IsRoot:       n.IsRoot,
	}
	if out.Parents == nil {
		out.Parents = []string{}
	}
	if out.Labels == nil {
		out.Labels = []string{}
	}
	if c := n.Content; c != nil && n.Kind == drive.KindFile {
		cp := &acd.ContentProperties{Size: c.Size, MD5: c.MD5, ContentType: c.ContentType, Extension: c.Extension, Version: c.Version}
		if !c.ContentDate.IsZero() {
			cp.ContentDate = c.ContentDate.UTC().Format(acd.TimeFormat)
		}
		cp.ModTime = acd.NewTime(c.ModTime)
		cp.Image, cp.Video = imageJSON(c.Image), videoJSON(c.Video)
		if n.Status == drive.StatusPurged {
			cp = nil
		}
		out.ContentProperties = cp
	}
	return out
}

// NodeWire returns NodeJSON(n) encoded exactly as POST /changes sends a
// node inside a change set: compact, without HTML escaping, no newline.
// It depends on the node alone (no temp link, no properties, no base
// URL), so the metadata store keeps it in the nodes.wire column, rendered
// in the transaction that writes the node (sqlstore.Store.Wire), and the
// changes feed copies those bytes instead of encoding every node.
func NodeWire(n *drive.Node) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(512)
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(NodeJSON(n)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// etag is a short stable tag of a node version.
func etag(n *drive.Node) string {
	sum := sha256.Sum256([]byte(n.ID + ":" + strconv.FormatInt(n.Version, 10)))
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}

func (s *Server) nodesJSON(r *http.Request, ns []*drive.Node, tempLink bool) []*acd.Node {
	out := make([]*acd.Node, len(ns))
	for i, n := range ns {
		out[i] = s.nodeJSON(r, n, tempLink)
	}
	return out
}
