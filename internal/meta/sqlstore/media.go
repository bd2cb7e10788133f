package sqlstore

import (
	"database/sql"
	"encoding/json"

	"github.com/clouddrive/clouddrive/internal/drive"
)

// mediaArg is the nodes.media column of c: {"image":...} or
// {"video":...} as JSON, NULL when media extraction found neither.
func mediaArg(c *drive.Content) sql.NullString {
	if c.Image == nil && c.Video == nil {
		return sql.NullString{}
	}
	b, err := json.Marshal(drive.Media{Image: c.Image, Video: c.Video})
	if err != nil {
		return sql.NullString{}
	}
	return sql.NullString{String: string(b), Valid: true}
}

// scanMedia fills c.Image and c.Video from the nodes.media column; a
// value that does not decode is treated as absent.
func scanMedia(c *drive.Content, s sql.NullString) {
	if !s.Valid || s.String == "" {
		return
	}
	var m drive.Media
	if json.Unmarshal([]byte(s.String), &m) == nil {
		c.Image, c.Video = m.Image, m.Video
	}
}
