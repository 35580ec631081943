-- Write-back links for Trello: "DocSpace folder" on each card with an applied folder (boards take
-- no attachments). Reads docspace_entries (key, kind, status, docspace_id, title) of this source's
-- ledger. Columns: key, target, name
SELECT key, substr(key, length('trello:card:') + 1) AS target, 'DocSpace folder' AS name
FROM docspace_entries
WHERE status = 'applied' AND docspace_id IS NOT NULL AND kind = 'folder' AND starts_with(key, 'trello:card:')
