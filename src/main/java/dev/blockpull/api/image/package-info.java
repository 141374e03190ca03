/** {@code /images}: image files under the data root, like {@code qemu-img create} and {@code info}. */
@NullMarked
package dev.blockpull.api.image;

import org.jspecify.annotations.NullMarked;
