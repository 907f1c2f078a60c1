"""The built web console (`/`) and mobile H5 (`/m/`), served by the gateway itself."""
