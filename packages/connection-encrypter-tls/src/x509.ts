/**
 * `@peculiar/x509` resolves its algorithm providers through a dependency-injection container that
 * needs the `reflect-metadata` polyfill loaded first: importing the library through this module
 * guarantees the order.
 */
import 'reflect-metadata'

export * as x509 from '@peculiar/x509'
