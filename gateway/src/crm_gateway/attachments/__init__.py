"""Attachments (附件): uploads forwarded to the customer service, downloads streamed from object storage."""
