// Package crm is what every connector shares: [Record], the reader interfaces ([Source],
// [RecordReader]), optional powers found by type assertion ([Inspector]), and the registry of
// connector kinds. Each kind lives in its own sub-package and registers itself from init:
// crm/postgres (kind "postgres") and crm/csvfile (kind "csv"); import them for their side effect.
//
// [CheckMappings] is `crmigrate plan check --connect`: every mapped table, query, file and column
// that does not exist, as plan errors at the line that names it.
package crm
