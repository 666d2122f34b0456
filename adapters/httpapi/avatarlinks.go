package httpapi

import (
	"strings"

	"github.com/google/uuid"
)

// IsAvatarURL reports whether url is a stable avatar link as AvatarURL
// writes it: under this public base URL, byte for byte, whatever its
// scheme (http in development), with an upload id in canonical form. A
// profile patch accepts such a link back; whether its upload is a ready
// avatar is GET /v1/avatars/{id}'s business, as for any https URL.
func (l Links) IsAvatarURL(url string) bool {
	id, ok := strings.CutPrefix(url, strings.TrimRight(l.PublicURL, "/")+avatarsPath)
	if !ok {
		return false
	}
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}
