package nodes

import (
	"context"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// A Visitor receives a walk of a folder's subtree (Service.Walk).
type Visitor interface {
	// File is called for each file.
	File(ctx context.Context, n *drive.Node) error
	// Folder is called for each folder before its children.
	Folder(ctx context.Context, n *drive.Node) error
	// Leave is called for each folder after its children; empty reports
	// that it had none (a folder skipped as a cycle does not count).
	Leave(ctx context.Context, n *drive.Node, empty bool) error
}

// Walk visits the AVAILABLE subtree below folder depth first, children in
// name order, reading one listing page at a time so that nothing is held
// whole. folder itself is not visited. A folder reached again through a
// cycle of parents (a node may have several) is skipped. The first error
// of v ends the walk.
func (s *Service) Walk(ctx context.Context, folder *drive.Node, v Visitor) error {
	_, err := s.walk(ctx, folder, v, map[string]bool{folder.ID: true})
	return err
}

// walk visits the children of f and reports whether it had none; onPath
// holds the folders being walked.
func (s *Service) walk(ctx context.Context, f *drive.Node, v Visitor, onPath map[string]bool) (empty bool, err error) {
	empty = true
	opts := ListOptions{Parent: f.ID, Sort: "name ASC"}
	for {
		page, err := s.List(ctx, opts)
		if err != nil {
			return false, err
		}
		for _, c := range page.Nodes {
			switch c.Kind {
			case drive.KindFile:
				empty = false
				if err := v.File(ctx, c); err != nil {
					return false, err
				}
			case drive.KindFolder:
				if onPath[c.ID] {
					continue
				}
				empty = false
				if err := v.Folder(ctx, c); err != nil {
					return false, err
				}
				onPath[c.ID] = true
				sub, err := s.walk(ctx, c, v, onPath)
				delete(onPath, c.ID)
				if err != nil {
					return false, err
				}
				if err := v.Leave(ctx, c, sub); err != nil {
					return false, err
				}
			}
		}
		if page.NextToken == "" {
			return empty, nil
		}
		opts.StartToken = page.NextToken
	}
}
