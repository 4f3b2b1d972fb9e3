"""Application logic over a graph store: the library's statistics, trees and listings. The API
and the CLI are thin layers over this package."""
