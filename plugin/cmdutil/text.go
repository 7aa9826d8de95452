package cmdutil

// Plural is one when n is 1, else many: "1 policy", "2 policies".
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
