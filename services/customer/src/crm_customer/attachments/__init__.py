"""Attachments (附件): files on a customer in object storage, recorded and guarded here."""
