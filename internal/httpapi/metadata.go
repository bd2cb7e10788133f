package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/drive"
	"github.com/clouddrive/clouddrive/internal/nodes"
)

// unlimitedQuota is reported for users without a quota.
const unlimitedQuota = int64(1) << 50

func (s *Server) tempLinkTTL() time.Duration {
	if s.TempLinkTTL > 0 {
		return s.TempLinkTTL
	}
	return time.Hour
}

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, acd.Endpoint{CustomerExists: true, MetadataURL: s.baseURL(r) + "/drive/v1/",
		ContentURL: s.contentBaseURL(r) + "/cdproxy/"})
}

func (s *Server) getAccountInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, acd.AccountInfo{TermsOfUse: "1.0.0", Status: "ACTIVE"})
}

func (s *Server) getQuota(w http.ResponseWriter, r *http.Request) {
	u, used, err := s.Nodes.Quota(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := u.Quota
	if q <= 0 {
		q = unlimitedQuota
	}
	writeJSON(w, http.StatusOK, acd.Quota{Quota: q, Available: max(q-used.Bytes, 0),
		LastCalculated: s.Now().UTC().Format(acd.TimeFormat)})
}

func (s *Server) getUsage(w http.ResponseWriter, r *http.Request) {
	_, usage, err := s.Nodes.Account(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cat := func(c drive.UsageCount) acd.CategoryUsage {
		u := acd.UsageCount{Bytes: c.Bytes, Count: c.Count}
		return acd.CategoryUsage{Total: u, Billable: u}
	}
	writeJSON(w, http.StatusOK, acd.Usage{LastCalculated: s.Now().UTC().Format(acd.TimeFormat),
		Photo: cat(usage.Photo), Video: cat(usage.Video), Doc: cat(usage.Doc), Other: cat(usage.Other)})
}

// replyNode answers with a node (in its wire form) or with err.
func (s *Server) replyNode(w http.ResponseWriter, r *http.Request, status int, n *drive.Node, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, status, s.nodeJSON(r, n, false))
}

func boolParam(r *http.Request, name string) bool {
	v := strings.ToLower(r.URL.Query().Get(name))
	return v == "true" || v == "1"
}

// listOptions reads filters, sort, limit and startToken.
func listOptions(r *http.Request) (nodes.ListOptions, error) {
	q := r.URL.Query()
	o := nodes.ListOptions{Filters: q.Get("filters"), Sort: q.Get("sort"), StartToken: q.Get("startToken")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return o, &drive.Error{Op: "httpapi.list", Kind: drive.Invalid, Param: "limit", Message: "must be a number between 1 and 200"}
		}
		o.Limit = n
		if n == 0 {
			o.Limit = -1 // explicit 0 is invalid, not "default"
		}
	}
	return o, nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, o nodes.ListOptions) {
	page, err := s.Nodes.List(r.Context(), o)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, acd.NodeList{Count: page.Count, NextToken: page.NextToken,
		Data: s.nodesJSON(r, page.Nodes, boolParam(r, "tempLink"))})
}

func (s *Server) listNodes(w http.ResponseWriter, r *http.Request) {
	o, err := listOptions(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.list(w, r, o)
}

func (s *Server) listChildren(w http.ResponseWriter, r *http.Request) {
	o, err := listOptions(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	o.Parent = r.PathValue("id")
	s.list(w, r, o)
}

func (s *Server) listTrash(w http.ResponseWriter, r *http.Request) {
	o, err := listOptions(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	o.Trash = true
	s.list(w, r, o)
}

func (s *Server) getNode(w http.ResponseWriter, r *http.Request) {
	n, err := s.Nodes.Node(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.nodeJSON(r, n, boolParam(r, "tempLink")))
}

func toNewNode(in acd.NewNode) nodes.NewNode {
	return nodes.NewNode{Name: in.Name, Kind: drive.NodeKind(in.Kind), Parents: in.Parents, Labels: in.Labels,
		Description: in.Description, Properties: in.Properties}
}

func (s *Server) createFolder(w http.ResponseWriter, r *http.Request) {
	var in acd.NewNode
	if err := readJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Kind != "" && in.Kind != string(drive.KindFolder) {
		s.writeError(w, r, &drive.Error{Op: "httpapi.createFolder", Kind: drive.Invalid, Param: "kind",
			Message: "only folders can be created here; upload files to the content endpoint"})
		return
	}
	if in.ModTime != "" {
		s.writeError(w, r, &drive.Error{Op: "httpapi.createFolder", Kind: drive.Invalid, Param: "mtime",
			Message: "only files have a modification time"})
		return
	}
	n, err := s.Nodes.CreateFolder(r.Context(), toNewNode(in))
	s.replyNode(w, r, http.StatusCreated, n, err)
}

// patchBody is PATCH /nodes/{id}; pointers tell absent from empty.
type patchBody struct {
	Name        *string                      `json:"name"`
	Description *string                      `json:"description"`
	Labels      *[]string                    `json:"labels"`
	Parents     *[]string                    `json:"parents"`
	Status      *string                      `json:"status"`
	Properties  map[string]map[string]string `json:"properties"`
	// ModTime is a file's modification time (RFC 3339); null clears it.
	ModTime nullableString `json:"mtime"`
}

// nullableString is a JSON string field that tells absent, null and a
// string apart.
type nullableString struct {
	Set, Null bool
	Value     string
}

func (n *nullableString) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Null = true
		return nil
	}
	// A non-string's *json.UnmarshalTypeError gets the field's name from
	// the decoder, so decodeJSON words it as for any string field.
	return json.Unmarshal(b, &n.Value)
}

func (s *Server) patchNode(w http.ResponseWriter, r *http.Request) {
	var in patchBody
	if err := readJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	pt := nodes.Patch{Name: in.Name, Description: in.Description, Labels: in.Labels, Parents: in.Parents, Properties: in.Properties}
	if in.Status != nil {
		st := drive.Status(*in.Status)
		pt.Status = &st
	}
	switch {
	case in.ModTime.Null:
		pt.ModTime = &time.Time{} // none
	case in.ModTime.Set:
		t, err := parseModTime("httpapi.patchNode", in.ModTime.Value)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		pt.ModTime = &t
	}
	n, err := s.Nodes.Update(r.Context(), r.PathValue("id"), pt)
	s.replyNode(w, r, http.StatusOK, n, err)
}

func (s *Server) moveNode(w http.ResponseWriter, r *http.Request) {
	var in acd.MoveRequest
	if err := readJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.Nodes.Move(r.Context(), r.PathValue("id"), in.FromParent, in.ChildID)
	s.replyNode(w, r, http.StatusOK, n, err)
}

func (s *Server) addChild(w http.ResponseWriter, r *http.Request) {
	n, err := s.Nodes.AddParent(r.Context(), r.PathValue("id"), r.PathValue("child"))
	s.replyNode(w, r, http.StatusOK, n, err)
}

func (s *Server) removeChild(w http.ResponseWriter, r *http.Request) {
	n, err := s.Nodes.RemoveParent(r.Context(), r.PathValue("id"), r.PathValue("child"))
	s.replyNode(w, r, http.StatusOK, n, err)
}

func (s *Server) trashNode(w http.ResponseWriter, r *http.Request) {
	n, err := s.Nodes.Trash(r.Context(), r.PathValue("id"))
	s.replyNode(w, r, http.StatusOK, n, err)
}

func (s *Server) restoreNode(w http.ResponseWriter, r *http.Request) {
	n, err := s.Nodes.Restore(r.Context(), r.PathValue("id"))
	s.replyNode(w, r, http.StatusOK, n, err)
}

func (s *Server) purgeNode(w http.ResponseWriter, r *http.Request) {
	ns, err := s.Nodes.Purge(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.nodeJSON(r, ns[0], false))
}

func (s *Server) bulkPurge(w http.ResponseWriter, r *http.Request) {
	var in acd.BulkPurge
	if err := readJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(in.NodeIDs) == 0 || len(in.NodeIDs) > 1000 {
		s.writeError(w, r, &drive.Error{Op: "httpapi.bulkPurge", Kind: drive.Invalid, Param: "nodeIds", Message: "give 1 to 1000 node ids"})
		return
	}
	ns, err := s.Nodes.Purge(r.Context(), in.NodeIDs...)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, acd.NodeList{Count: int64(len(ns)), Data: s.nodesJSON(r, ns, false)})
}

func (s *Server) listProperties(w http.ResponseWriter, r *http.Request) {
	props, err := s.Nodes.Properties(r.Context(), r.PathValue("id"), r.PathValue("owner"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, acd.Properties{Data: props})
}

func (s *Server) getProperty(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	v, err := s.Nodes.Property(r.Context(), r.PathValue("id"), r.PathValue("owner"), key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, acd.Property{Key: key, Value: v})
}

func (s *Server) putProperty(w http.ResponseWriter, r *http.Request) {
	var in acd.PropertyValue
	if err := readJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	id, owner, key := r.PathValue("id"), r.PathValue("owner"), r.PathValue("key")
	if err := s.Nodes.SetProperty(r.Context(), id, owner, key, in.Value); err != nil {
		s.writeError(w, r, err)
		return
	}
	loc := s.baseURL(r) + "/drive/v1/nodes/" + id + "/properties/" + owner + "/" + key
	writeJSON(w, http.StatusCreated, acd.Property{Key: key, Value: in.Value, Location: loc})
}

func (s *Server) deleteProperty(w http.ResponseWriter, r *http.Request) {
	if err := s.Nodes.DeleteProperty(r.Context(), r.PathValue("id"), r.PathValue("owner"), r.PathValue("key")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
