package httpapi

import "encoding/json"

// phoneText is a profile field that the original API types as a number
// (UserUpdateRequest's contact and phone) and actas keeps as text (the
// User object's contact and phone are strings): a JSON string, or a JSON
// number kept as written, so that a v1 client sending 1234567890 is
// understood. Anything else is invalid JSON for the field.
type phoneText string

func (p *phoneText) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		err := json.Unmarshal(b, &s)
		*p = phoneText(s)
		return err
	}
	var n json.Number
	err := json.Unmarshal(b, &n)
	*p = phoneText(n)
	return err
}

// text returns the field as the issuer takes it: nil when absent.
func (p *phoneText) text() *string {
	if p == nil {
		return nil
	}
	s := string(*p)
	return &s
}
