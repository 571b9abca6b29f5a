"""User-facing model classes (scvi-tools style): setup_mudata, train, sample/translate, save/load."""
