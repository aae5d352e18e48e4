"""batchproc's built-in steps, registered through the `batchproc` entry-point group."""
