-- Documents for Asana (read through asana_source.DOCSPACE_SPEC when attachments = "copy"):
-- every staged attachment of a task, with what the destination needs to copy or skip it.
-- copyable: an uploaded file (host 'asana'); links (gdrive, dropbox, box, onedrive, vimeo,
-- external) are reported as skipped. The write-back's own links ("DocSpace room", "DocSpace
-- folder", "DocSpace folder (<room>)") point back at DocSpace: left out entirely.
-- Columns: attachment_id, parent_entity, name, size, copyable, deleted
SELECT a.gid AS attachment_id,
       'asana:task:' || a.parent_gid AS parent_entity,
       a.name,
       a.size,
       coalesce(a.host, a.resource_subtype) = 'asana' AS copyable,
       coalesce(a.is_deleted, false) AS deleted
FROM asana_data.attachments a
WHERE NOT (coalesce(a.host, a.resource_subtype, '') <> 'asana'
           AND (a.name = 'DocSpace room' OR a.name = 'DocSpace folder'
                OR a.name LIKE 'DocSpace folder (%)'))
