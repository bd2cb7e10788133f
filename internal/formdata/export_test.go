package formdata

// SetDirectMin sets the smallest Read that bypasses r's buffer, so tests
// reach that path with small inputs.
func SetDirectMin(r *Reader, n int) { r.directMin = n }
