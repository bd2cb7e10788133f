// Package acd holds the wire types of the Amazon Cloud Drive REST API v1 as
// clouddrive speaks it: the exact JSON shapes that ACD clients (go-acd,
// rclone's acd backend, acd_cli) read and write. It has no logic and
// imports only the standard library, so SDK users can depend on it alone.
package acd

// Endpoint is the reply of GET account/endpoint. Both URLs end with '/'.
type Endpoint struct {
	CustomerExists bool   `json:"customerExists"`
	ContentURL     string `json:"contentUrl"`
	MetadataURL    string `json:"metadataUrl"`
}

// AccountInfo is the reply of GET account/info.
type AccountInfo struct {
	TermsOfUse string `json:"termsOfUse"`
	Status     string `json:"status"`
}

// Quota is the reply of GET account/quota.
type Quota struct {
	Quota          int64  `json:"quota"`
	LastCalculated string `json:"lastCalculated"`
	Available      int64  `json:"available"`
}

// UsageCount is a byte and node count.
type UsageCount struct {
	Bytes int64 `json:"bytes"`
	Count int64 `json:"count"`
}

// CategoryUsage is the usage of one category.
type CategoryUsage struct {
	Total    UsageCount `json:"total"`
	Billable UsageCount `json:"billable"`
}

// Usage is the reply of GET account/usage.
type Usage struct {
	LastCalculated string        `json:"lastCalculated"`
	Other          CategoryUsage `json:"other"`
	Doc            CategoryUsage `json:"doc"`
	Photo          CategoryUsage `json:"photo"`
	Video          CategoryUsage `json:"video"`
}

// ContentProperties describe the bytes of a FILE node.
type ContentProperties struct {
	Size        int64  `json:"size"`
	MD5         string `json:"md5"`
	ContentType string `json:"contentType"`
	Extension   string `json:"extension"`
	Version     int64  `json:"version"`
	ContentDate string `json:"contentDate,omitempty"`
	// ModTime is the file's modification time as the uploader gave it
	// (mtime, a field ACD did not have); zero when none was given.
	ModTime Time `json:"mtime,omitzero"`
	// Image and Video are what the server read from a photo's header and
	// EXIF data or a video's container, as ACD's upload service did.
	Image *Image `json:"image,omitempty"`
	Video *Video `json:"video,omitempty"`
}

// Image is contentProperties.image: EXIF values as the camera wrote them
// (strings, as on ACD), dates in TimeFormat, pixel size. Latitude and
// Longitude appear only on a server that keeps GPS data.
type Image struct {
	Width             int      `json:"width,omitempty"`
	Height            int      `json:"height,omitempty"`
	Make              string   `json:"make,omitempty"`
	Model             string   `json:"model,omitempty"`
	Software          string   `json:"software,omitempty"`
	Orientation       string   `json:"orientation,omitempty"`
	DateTime          string   `json:"dateTime,omitempty"`
	DateTimeOriginal  string   `json:"dateTimeOriginal,omitempty"`
	DateTimeDigitized string   `json:"dateTimeDigitized,omitempty"`
	ExposureTime      string   `json:"exposureTime,omitempty"`
	FNumber           string   `json:"fNumber,omitempty"`
	ISO               string   `json:"iso,omitempty"`
	FocalLength       string   `json:"focalLength,omitempty"`
	Flash             string   `json:"flash,omitempty"`
	MeteringMode      string   `json:"meteringMode,omitempty"`
	ExposureProgram   string   `json:"exposureProgram,omitempty"`
	ExposureMode      string   `json:"exposureMode,omitempty"`
	WhiteBalance      string   `json:"whiteBalance,omitempty"`
	ColorSpace        string   `json:"colorSpace,omitempty"`
	XResolution       string   `json:"xResolution,omitempty"`
	YResolution       string   `json:"yResolution,omitempty"`
	ResolutionUnit    string   `json:"resolutionUnit,omitempty"`
	Latitude          *float64 `json:"latitude,omitempty"`
	Longitude         *float64 `json:"longitude,omitempty"`
}

// Video is contentProperties.video: pixel size, duration in seconds,
// display rotation in degrees, codecs, bit rate (bits/s) and frame rate.
type Video struct {
	Width          int     `json:"width,omitempty"`
	Height         int     `json:"height,omitempty"`
	Duration       float64 `json:"duration,omitempty"`
	Rotate         int     `json:"rotate"`
	VideoCodec     string  `json:"videoCodec,omitempty"`
	AudioCodec     string  `json:"audioCodec,omitempty"`
	Bitrate        int64   `json:"bitrate,omitempty"`
	VideoFrameRate float64 `json:"videoFrameRate,omitempty"`
}

// Node is a file or folder. Name is absent for the root; ContentProperties
// only for files; IsRoot only on the root; TempLink only when asked for.
type Node struct {
	ID                string             `json:"id"`
	Name              string             `json:"name,omitempty"`
	Kind              string             `json:"kind"`
	Status            string             `json:"status"`
	Parents           []string           `json:"parents"`
	Labels            []string           `json:"labels"`
	Description       string             `json:"description"`
	CreatedDate       string             `json:"createdDate"`
	ModifiedDate      string             `json:"modifiedDate"`
	CreatedBy         string             `json:"createdBy"`
	Version           int64              `json:"version"`
	ETagResponse      string             `json:"eTagResponse,omitempty"`
	Restricted        bool               `json:"restricted"`
	IsShared          bool               `json:"isShared"`
	IsRoot            bool               `json:"isRoot,omitempty"`
	ContentProperties *ContentProperties `json:"contentProperties,omitempty"`
	TempLink          string             `json:"tempLink,omitempty"`
}

// NodeList is the reply of node listings. NextToken is omitted on the last
// page: go-acd and rclone loop forever on "", acd_cli on null.
type NodeList struct {
	Count     int64   `json:"count"`
	NextToken string  `json:"nextToken,omitempty"`
	Data      []*Node `json:"data"`
}

// NewNode is the body of POST nodes (create folder) and the metadata part
// of an upload.
type NewNode struct {
	Name        string                       `json:"name"`
	Kind        string                       `json:"kind"`
	Parents     []string                     `json:"parents,omitempty"`
	Labels      []string                     `json:"labels,omitempty"`
	Description string                       `json:"description"`
	Properties  map[string]map[string]string `json:"properties,omitempty"`
	// ModTime is the file's modification time (uploads only; RFC 3339,
	// FormatTime writes it), "" for none.
	ModTime string `json:"mtime,omitempty"`
}

// MoveRequest is the body of POST nodes/{newParent}/children.
type MoveRequest struct {
	FromParent string `json:"fromParent"`
	ChildID    string `json:"childId"`
}

// ChangesRequest is the body of POST changes. IncludePurged is a string
// ("true") in go-acd and acd_cli; the server also accepts a boolean.
type ChangesRequest struct {
	Checkpoint    string `json:"checkpoint,omitempty"`
	ChunkSize     int    `json:"chunkSize,omitempty"`
	MaxNodes      int    `json:"maxNodes,omitempty"`
	IncludePurged string `json:"includePurged,omitempty"`
	// Wait is a clouddrive extension (long poll): seconds, at most 60, to
	// hold a request with a checkpoint until something changes after it.
	Wait float64 `json:"wait,omitempty"`
}

// ChangeSet is one line of the changes stream.
type ChangeSet struct {
	Checkpoint string  `json:"checkpoint"`
	Nodes      []*Node `json:"nodes"`
	Reset      bool    `json:"reset"`
	StatusCode int     `json:"statusCode"`
}

// ChangesEnd is the last line of a complete changes stream.
type ChangesEnd struct {
	End bool `json:"end"`
}

// Property is the reply of property PUT and GET.
type Property struct {
	Key      string `json:"key"`
	Value    string `json:"value"`
	Location string `json:"location,omitempty"`
}

// PropertyValue is the body of property PUT.
type PropertyValue struct {
	Value string `json:"value"`
}

// Properties is the reply of GET nodes/{id}/properties/{owner}.
type Properties struct {
	Data map[string]string `json:"data"`
}

// BulkPurge is the body of POST bulk/nodes/purge.
type BulkPurge struct {
	Recurse string   `json:"recurse,omitempty"`
	NodeIDs []string `json:"nodeIds"`
}

// ErrorInfo carries details of some errors.
type ErrorInfo struct {
	NodeID string `json:"nodeId,omitempty"`
}

// Error is the body of every error reply.
type Error struct {
	Logref  string     `json:"logref"`
	Message string     `json:"message"`
	Code    string     `json:"code,omitempty"`
	Info    *ErrorInfo `json:"info,omitempty"`
}

// Token is the reply of the OAuth 2.0 token endpoint.
type Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
}

// TimeFormat is the timestamp layout of the API: UTC with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z"
