-- Documents for Trello (read through trello_source.DOCSPACE_SPEC when attachments = "copy"):
-- every staged card attachment. copyable: an uploaded file (isUpload); link attachments are
-- reported as skipped. The write-back's own "DocSpace folder" links are left out entirely.
-- Columns: attachment_id, parent_entity, name, size, copyable, deleted
SELECT a.id AS attachment_id,
       'trello:card:' || a.id_card AS parent_entity,
       a.name,
       a.bytes AS size,
       coalesce(a.is_upload, false) AS copyable,
       coalesce(a.is_deleted, false) AS deleted
FROM trello_data.attachments a
WHERE NOT (NOT coalesce(a.is_upload, false)
           AND (a.name = 'DocSpace folder' OR a.name = 'DocSpace room'))
