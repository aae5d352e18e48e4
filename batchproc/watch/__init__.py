"""Hot folders (--watch): after the ordinary run, keep running and process each new or changed
file once it is complete.

The watch is not a second engine: it is the input of one long run. `observer` hears about
changes (watchdog), `settling` decides when a file is complete, `hot_folders` routes settled
files to the runs that watch them (`share`: each run's stream, read by its walking thread),
and `deletions` accounts for inputs that are deleted.
"""
