"""High availability: start-up checks of how the portal's Redis servers are configured."""
