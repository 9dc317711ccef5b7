package reports

import "github.com/crmigrate/crmigrate/internal/pii"

// MaskValue hides personal data in a value of a field type (email, phone) for reports; other
// types are returned as they are. Reports show values masked unless --show-pii is given.
func MaskValue(typ, v string) string { return pii.Mask(typ, v) }
