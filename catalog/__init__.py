"""The catalog: search, dataset detail, versions, downloads, DCAT-AP export and the web pages."""
