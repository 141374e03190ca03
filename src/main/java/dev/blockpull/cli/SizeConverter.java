package dev.blockpull.cli;

import picocli.CommandLine.ITypeConverter;

/** picocli's converter for size options ({@code --speed 50M}); a bad size is a usage error. */
final class SizeConverter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        return Sizes.parse(value);
    }
}
