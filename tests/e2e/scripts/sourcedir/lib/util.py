VALUE = "from the source directory"
