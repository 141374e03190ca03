package dev.blockpull.graph;

/**
 * @param maxChainDepth most layers a chain may have, top included
 * @param directIo      open image files with O_DIRECT
 */
public record GraphSettings(int maxChainDepth, boolean directIo) {

    public GraphSettings {
        if (maxChainDepth < 1) {
            throw new IllegalArgumentException("maxChainDepth must be positive: " + maxChainDepth);
        }
    }
}
